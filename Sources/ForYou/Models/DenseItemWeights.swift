// SPDX-License-Identifier: Apache-2.0
//
// A dense item-item weight matrix over the catalogue's most supported items, as the closed-form models
// (EASE/DLAE, SLIT) learn it: row i holds what item i in a history adds to every modelled item's score.
// Only `modelled.count` ≤ a limit items have rows and columns (the ones with the most users, so the
// matrix and its O(N³) solve stay bounded on any catalogue); other items score 0 and add nothing.

/// Item-item weights over a bounded set of modelled items.
struct DenseItemWeights: Sendable {
    /// The catalogue index of each modelled item, ascending.
    private(set) var modelled: [Int32] = []
    /// The modelled position of each catalogue item, −1 when it is not modelled.
    private(set) var position: [Int32] = []
    /// Row-major `modelled.count` × `modelled.count`.
    var weights = Matrix(rows: 0, columns: 0)

    init() {}

    /// Chooses the `limit` items with the most users (ties by lower index) and zero weights over them.
    init(userItems: [[Int32]], itemCount: Int, limit: Int) {
        var support = [Int](repeating: 0, count: itemCount)
        for items in userItems { for item in items { support[Int(item)] += 1 } }
        var candidates = (0..<itemCount).filter { support[$0] > 0 }
        if candidates.count > limit {
            candidates = candidates.sorted { support[$0] > support[$1] || (support[$0] == support[$1] && $0 < $1) }.prefix(limit).sorted()
        }
        self.init(modelled: candidates.map(Int32.init), itemCount: itemCount)
    }

    /// Zero weights over the given modelled items (ascending catalogue indices).
    init(modelled: [Int32], itemCount: Int) {
        self.modelled = modelled
        position = [Int32](repeating: -1, count: itemCount)
        for (index, item) in modelled.enumerated() { position[Int(item)] = Int32(index) }
        weights = Matrix(rows: modelled.count, columns: modelled.count)
    }

    var count: Int { modelled.count }
    var itemCount: Int { position.count }

    /// Σ weight · row(item) over the modelled items given, written to `scores` (one per catalogue item;
    /// unmodelled items get 0). - Complexity: O(itemCount + |items| · N).
    func score(_ items: [(item: Int32, weight: Float)], into scores: inout [Float]) {
        precondition(scores.count == position.count, "scores must hold one value per catalogue item")
        for index in scores.indices { scores[index] = 0 }
        let n = modelled.count
        guard n > 0 else { return }
        var row = [Float](repeating: 0, count: n)
        weights.storage.withUnsafeBufferPointer { b in
            row.withUnsafeMutableBufferPointer { s in
                for (item, weight) in items where position[Int(item)] >= 0 {
                    Kernels.axpy(weight, b.baseAddress! + Int(position[Int(item)]) * n, s.baseAddress!, n)
                }
            }
        }
        for (index, item) in modelled.enumerated() { scores[Int(item)] = row[index] }
    }
}
