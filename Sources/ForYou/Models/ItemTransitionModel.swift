// SPDX-License-Identifier: Apache-2.0
//
// A sequence-aware item-to-item model: what people watch *next*.
//
// Fitting counts, in every user's ordered history, each item j that follows an item i within
// `window` steps, weighted by `stepDecay^(gap-1)`; each row i is then divided by (its total + 1), an
// estimate of P(next = j | i) shrunk toward 0 for rare items. Scoring sums the rows of the user's last
// `historyLength` items, the latest weighted 1, the one before `historyDecay`, and so on; the sum is
// scaled to a maximum of 1 and a popularity term of 1e-6 per user breaks ties among unseen items.
// It is the item-transition half of SLIST (Choi et al., "Session-aware Linear Item-Item Models for
// Session-based Recommendation", WWW 2021) with counts in place of a ridge regression.
//
// Storage: the transition matrix in compressed sparse rows (`rowStart`, `columns`, `values`,
// contiguous), so memory grows with the number of distinct transitions, not items².

/// What people watch next after what a user watched last.
public struct ItemTransitionModel: SequentialModel {
    /// Hyperparameters, with the defaults chosen on MovieLens 100K's validation targets.
    public struct Configuration: Sendable, Hashable {
        /// How many following items count as a transition from an item. Default: 5.
        public var window = 5
        /// Weight of a transition `gap` steps away: `stepDecay^(gap-1)`. Default: 0.7.
        public var stepDecay: Float = 0.7
        /// How many of the user's latest items are looked up. Default: 5.
        public var historyLength = 5
        /// Weight of the k-th latest item: `historyDecay^(k-1)`. Default: 0.5.
        public var historyDecay: Float = 0.5
        public init() {}
        public init(window: Int, stepDecay: Float, historyLength: Int, historyDecay: Float) {
            self.window = window
            self.stepDecay = stepDecay
            self.historyLength = historyLength
            self.historyDecay = historyDecay
        }
    }

    public let configuration: Configuration
    var rowStart: [Int] = [0]
    var columns: [Int32] = []
    var values: [Float] = []
    var popularity: [Float] = []
    /// Each row's total count T before it was divided by T + 1: what unlearning needs to subtract
    /// counts exactly (Unlearning.swift).
    var rowTotals: [Float] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String {
        "ItemTransitions(window \(configuration.window), step decay \(configuration.stepDecay), last \(configuration.historyLength), history decay \(configuration.historyDecay))"
    }

    /// - Complexity: O(T log T) for T = total history length × window.
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        var pairs: [UInt64: Float] = [:]
        popularity = [Float](repeating: 0, count: itemCount)
        for sequence in sequences {
            for item in sequence { popularity[Int(item)] += 1 }
            forEachTransition(in: sequence) { pairs[$0, default: 0] += $1 }
        }
        let sorted = pairs.sorted { $0.key < $1.key }
        rowStart = [Int](repeating: 0, count: itemCount + 1)
        columns = []
        values = []
        columns.reserveCapacity(sorted.count)
        values.reserveCapacity(sorted.count)
        for (key, value) in sorted {
            rowStart[Int(key >> 32) + 1] += 1
            columns.append(Int32(truncatingIfNeeded: key & 0xFFFF_FFFF))
            values.append(value)
        }
        for row in 0..<itemCount { rowStart[row + 1] += rowStart[row] }
        rowTotals = [Float](repeating: 0, count: itemCount)
        for row in 0..<itemCount {
            let range = rowStart[row]..<rowStart[row + 1]
            let total = values[range].reduce(0, +)
            rowTotals[row] = total
            for index in range { values[index] /= total + 1 }
        }
    }

    /// Calls `body` with each transition of a history and its weight, `stepDecay^(gap-1)` for an item
    /// `gap` ≤ `window` steps later: the key is the from item in the high 32 bits, the to item in the low.
    func forEachTransition(in sequence: [Int32], _ body: (_ key: UInt64, _ weight: Float) -> Void) {
        for (position, from) in sequence.enumerated() {
            var weight: Float = 1
            for gap in 1...max(1, configuration.window) {
                guard position + gap < sequence.count else { break }
                body(UInt64(UInt32(bitPattern: from)) << 32 | UInt64(UInt32(bitPattern: sequence[position + gap])), weight)
                weight *= configuration.stepDecay
            }
        }
    }

    /// The items that follow the user's latest items, with the scores `score(history:into:)` gives them
    /// before its popularity tie-break (scaled to a maximum of 1; with `scaled: false`, the weighted sums
    /// of transition probabilities); every other item scores 0. - Complexity: O(transitions read).
    public func followers(of history: [Int32], scaled: Bool = true) -> [Int32: Float] {
        var scores: [Int32: Float] = [:]
        var weight: Float = 1
        for item in history.suffix(configuration.historyLength).reversed() {
            let row = Int(item)
            for index in rowStart[row]..<rowStart[row + 1] { scores[columns[index], default: 0] += weight * values[index] }
            weight *= configuration.historyDecay
        }
        let maximum = scores.values.max() ?? 0
        if scaled && maximum > 0 { for key in scores.keys { scores[key]! /= maximum } }
        return scores
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        precondition(scores.count == popularity.count, "scores must hold one value per item")
        for index in scores.indices { scores[index] = 0 }
        var weight: Float = 1
        for item in history.suffix(configuration.historyLength).reversed() {
            let row = Int(item)
            for index in rowStart[row]..<rowStart[row + 1] { scores[Int(columns[index])] += weight * values[index] }
            weight *= configuration.historyDecay
        }
        let maximum = scores.max() ?? 0
        let scale: Float = maximum > 0 ? 1 / maximum : 0
        for index in scores.indices { scores[index] = scores[index] * scale + 1e-6 * popularity[index] }
    }
}
