// SPDX-License-Identifier: Apache-2.0
//
// A linear blend of a few scores chosen to maximise NDCG@10 directly, by coordinate ascent (Metzler &
// Croft, "Linear feature-based models for information retrieval", Information Retrieval 2007): start
// from the best single score, then, coordinate by coordinate, try each weight of a fixed grid and keep
// the one that ranks the queries best; repeat while anything improves (at most `passes` times).
// Deterministic: a fixed grid and order, ties kept by the earlier choice.

enum CoordinateAscent {
    /// The weights tried for every coordinate.
    static let grid: [Float] = [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3]

    /// Weights for the columns `columns` of `examples`' feature rows.
    /// - Returns: one weight per column, and the NDCG@10 they reach on `examples`.
    /// A change is kept only when it improves NDCG@10 by more than this share (0.2%): smaller gains on the
    /// training queries are noise, and each kept weight is one more model the blend leans on.
    static let minimumGain = 0.002

    static func fit(_ examples: RankingExamples, columns: [Int], passes: Int = 3) -> (weights: [Float], ndcgAt10: Double) {
        var weights = [Float](repeating: 0, count: columns.count)
        guard !columns.isEmpty, examples.queryCount > 0 else { return (weights, 0) }
        var best = -1.0
        for index in columns.indices {
            var single = [Float](repeating: 0, count: columns.count)
            single[index] = 1
            let value = ndcg(examples, columns, single)
            if value > best {
                best = value
                weights = single
            }
        }
        // Each trial changes one weight: its scores are the current ones plus the change times that column.
        let values = columns.map { column in (0..<examples.rowCount).map { examples.features[$0 * examples.featureCount + column] } }
        var current = scores(examples, columns: columns, weights: weights)
        for _ in 0..<passes {
            var improved = false
            for index in columns.indices {
                for candidate in grid where candidate != weights[index] {
                    var trial = weights
                    trial[index] = candidate
                    guard trial.contains(where: { $0 > 0 }) else { continue }
                    let change = candidate - weights[index]
                    let value = examples.ndcgAt10(current, plus: change, times: values[index])
                    if value > best * (1 + minimumGain) + 1e-9 {
                        best = value
                        weights = trial
                        current = zip(current, values[index]).map { $0 + change * $1 }
                        improved = true
                    }
                }
            }
            if !improved { break }
        }
        return (weights, best)
    }

    /// Σ weight · feature per row.
    static func scores(_ examples: RankingExamples, columns: [Int], weights: [Float]) -> [Float] {
        let f = examples.featureCount
        return examples.features.withUnsafeBufferPointer { features in
            (0..<examples.rowCount).map { row in
                var sum: Float = 0
                for (column, weight) in zip(columns, weights) where weight != 0 { sum += weight * features[row * f + column] }
                return sum
            }
        }
    }

    private static func ndcg(_ examples: RankingExamples, _ columns: [Int], _ weights: [Float]) -> Double {
        examples.ndcgAt10(scores(examples, columns: columns, weights: weights))
    }
}
