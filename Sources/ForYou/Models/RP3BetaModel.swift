// SPDX-License-Identifier: Apache-2.0
//
// RP3beta (Paudel, Christoffel, Fischer & Bernstein, "Updatable, Accurate, Diverse, and Scalable
// Recommendations for Interactive Applications", ACM TiiS 2017): a three-step random walk item → user
// → item on the bipartite interaction graph, with the arriving item's popularity divided out.
//   W_ij = Σ_{u ∈ U_i ∩ U_j} (1/|U_i|)^α · (1/|I_u|)^α / |U_j|^β     (i ≠ j)
// Each item keeps its `neighbours` largest W_ij; a history scores items by the sum of its items' rows.
// Sparse: memory is items × neighbours and fitting O(Σ_u |I_u|²), so it covers catalogues of any size
// (unlike EASE's dense matrix). Items are split over `threads` tasks; the result does not depend on it.

/// The popularity-corrected random-walk item model.
public struct RP3BetaModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        /// The walk's exponent α on each transition probability. Default: 1.
        public var alpha: Float = 1
        /// The arriving item's popularity exponent β. Default: 0.5.
        public var beta: Float = 0.5
        /// Neighbours kept per item. Default: 200.
        public var neighbours = 200
        /// Tasks the items are split over. Default: 2.
        public var threads = 2
        public init() {}
    }

    public let configuration: Configuration
    /// Each item's neighbours and weights, best first (ties by lower index).
    var neighbours: [[(item: Int32, weight: Float)]] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String {
        "RP3beta(α \(configuration.alpha.formatted2), β \(configuration.beta.formatted2), \(configuration.neighbours) neighbours)"
    }

    /// - Complexity: O(Σ_u |I_u|² + N · n log K) for N items with n co-occurring items each.
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        let c = configuration
        let userItems = sequences.map { Array(Set($0)).sorted() }
        var itemUsers = [[Int32]](repeating: [], count: itemCount)
        for (user, items) in userItems.enumerated() { for item in items { itemUsers[Int(item)].append(Int32(user)) } }
        let usersOfItem = itemUsers
        let alpha = Double(c.alpha)
        let userStep = userItems.map { Float(power(1 / Double(max(1, $0.count)), alpha)) }
        let popularityDivisor = usersOfItem.map { Float(power(Double(max(1, $0.count)), Double(c.beta))) }
        let chunk = max(1, (itemCount + c.threads - 1) / max(1, c.threads))
        neighbours = await withTaskGroup(of: (Int, [[(item: Int32, weight: Float)]]).self) { group in
            for start in stride(from: 0, to: itemCount, by: chunk) {
                group.addTask {
                    var sums = [Float](repeating: 0, count: itemCount)
                    var touched: [Int32] = []
                    var part: [[(item: Int32, weight: Float)]] = []
                    for item in start..<min(start + chunk, itemCount) {
                        let itemStep = Float(power(1 / Double(max(1, usersOfItem[item].count)), alpha))
                        for user in usersOfItem[item] {
                            let step = itemStep * userStep[Int(user)]
                            for other in userItems[Int(user)] where Int(other) != item {
                                if sums[Int(other)] == 0 { touched.append(other) }
                                sums[Int(other)] += step
                            }
                        }
                        var top = TopK(c.neighbours)
                        for other in touched {
                            top.insert(other, score: sums[Int(other)] / popularityDivisor[Int(other)])
                            sums[Int(other)] = 0
                        }
                        touched.removeAll(keepingCapacity: true)
                        part.append(top.sorted().map { ($0.element, $0.score) })
                    }
                    return (start, part)
                }
            }
            var all = [[(item: Int32, weight: Float)]](repeating: [], count: itemCount)
            for await (start, part) in group { for (offset, row) in part.enumerated() { all[start + offset] = row } }
            return all
        }
    }

    /// The scores of the items the history's rows reach (others score 0). - Complexity: O(|h| · neighbours).
    func scores(of history: [Int32]) -> [Int32: Float] {
        var scores: [Int32: Float] = [:]
        var seen = Set<Int32>()
        for item in history where seen.insert(item).inserted {
            for (other, weight) in neighbours[Int(item)] { scores[other, default: 0] += weight }
        }
        return scores
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        precondition(scores.count == neighbours.count, "scores must hold one value per item")
        for index in scores.indices { scores[index] = 0 }
        var seen = Set<Int32>()
        for item in history where seen.insert(item).inserted {
            for (other, weight) in neighbours[Int(item)] { scores[Int(other)] += weight }
        }
    }
}
