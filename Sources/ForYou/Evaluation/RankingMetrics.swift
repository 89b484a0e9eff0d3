// SPDX-License-Identifier: Apache-2.0

/// Top-K accuracy of ranked lists against one held-out target per user (PROTOCOL.md step 7).
public struct RankingMetrics: Sendable, Equatable {
    /// Share of users whose target is in their top 10 (equals HitRate@10 with one target).
    public var recallAt10: Double
    /// Mean of 1 / log2(rank + 1) over users whose target ranks within 10, 0 for the others.
    public var ndcgAt10: Double
    public var recallAt20: Double
    public var ndcgAt20: Double
    /// Distinct items in all top-10 lists over the catalogue size.
    public var coverageAt10: Double
    /// How many users were scored.
    public var users: Int

    /// Scores ranked lists (best first, at least 20 long where the catalogue allows) against targets.
    /// - Precondition: one list per target.
    public init(rankings: [[Int32]], targets: [Int32], catalogueSize: Int) {
        precondition(rankings.count == targets.count, "one ranking per target")
        var hits10 = 0.0, hits20 = 0.0, gain10 = 0.0, gain20 = 0.0
        var covered = Set<Int32>()
        for (ranking, target) in zip(rankings, targets) {
            covered.formUnion(ranking.prefix(10))
            guard let position = ranking.prefix(20).firstIndex(of: target) else { continue }
            let gain = 1 / logarithm(Double(position + 2)) * logarithm(2)
            hits20 += 1
            gain20 += gain
            if position < 10 {
                hits10 += 1
                gain10 += gain
            }
        }
        let n = Double(max(targets.count, 1))
        recallAt10 = hits10 / n
        ndcgAt10 = gain10 / n
        recallAt20 = hits20 / n
        ndcgAt20 = gain20 / n
        coverageAt10 = catalogueSize > 0 ? Double(covered.count) / Double(catalogueSize) : 0
        users = targets.count
    }
}
