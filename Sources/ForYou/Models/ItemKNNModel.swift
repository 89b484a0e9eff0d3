// SPDX-License-Identifier: Apache-2.0
//
// Item-to-item nearest neighbours (Sarwar et al., WWW 2001; Deshpande & Karypis, TOIS 2004) with cosine
// similarity over users: sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| · |U_j|), keeping each item's `neighbours`
// most similar items. A history scores every item by the sum of its similarities to the history's items.
// Fitting spreads items over `threads` tasks; the result does not depend on how many.

/// Item-based collaborative filtering with cosine similarity.
public struct ItemKNNModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        /// Neighbours kept per item. Default: 100.
        public var neighbours = 100
        /// Tasks the items are split over. Default: 2.
        public var threads = 2
        public init() {}
    }

    public let configuration: Configuration
    /// Each item's neighbours and similarities, best first.
    private(set) var neighbours: [[(item: Int32, similarity: Float)]] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String { "ItemKNN(cosine, \(configuration.neighbours) neighbours)" }

    /// - Complexity: O(Σ_u |I_u|² + N · N log K) for user item sets I_u and N items.
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        let userItems = sequences.map { Array(Set($0)) }
        var itemUsers = [[Int32]](repeating: [], count: itemCount)
        for (user, items) in userItems.enumerated() { for item in items { itemUsers[Int(item)].append(Int32(user)) } }
        let usersOfItem = itemUsers
        let keep = configuration.neighbours
        let chunk = max(1, (itemCount + configuration.threads - 1) / max(1, configuration.threads))
        neighbours = await withTaskGroup(of: (Int, [[(item: Int32, similarity: Float)]]).self) { group in
            for start in stride(from: 0, to: itemCount, by: chunk) {
                group.addTask {
                    var counts = [Float](repeating: 0, count: itemCount)
                    var touched: [Int32] = []
                    var part: [[(item: Int32, similarity: Float)]] = []
                    for item in start..<min(start + chunk, itemCount) {
                        for user in usersOfItem[item] {
                            for other in userItems[Int(user)] where Int(other) != item {
                                if counts[Int(other)] == 0 { touched.append(other) }
                                counts[Int(other)] += 1
                            }
                        }
                        var top = TopK(keep)
                        let norm = Float(usersOfItem[item].count).squareRoot()
                        for other in touched {
                            top.insert(other, score: counts[Int(other)] / (norm * Float(usersOfItem[Int(other)].count).squareRoot()))
                            counts[Int(other)] = 0
                        }
                        touched.removeAll(keepingCapacity: true)
                        part.append(top.sorted().map { ($0.element, $0.score) })
                    }
                    return (start, part)
                }
            }
            var all = [[(item: Int32, similarity: Float)]](repeating: [], count: itemCount)
            for await (start, part) in group { for (offset, row) in part.enumerated() { all[start + offset] = row } }
            return all
        }
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        precondition(scores.count == neighbours.count, "scores must hold one value per item")
        for index in scores.indices { scores[index] = 0 }
        for item in Set(history) {
            for (other, similarity) in neighbours[Int(item)] { scores[Int(other)] += similarity }
        }
    }
}
