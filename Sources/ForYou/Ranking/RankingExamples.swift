// SPDX-License-Identifier: Apache-2.0

/// Learning-to-rank examples: feature rows grouped into queries (one user at one moment, its rows the
/// candidates), each row relevant or not, with a base score the learner adds to.
struct RankingExamples: Sendable {
    /// Features per row.
    let featureCount: Int
    /// Row-major, `rowCount` × `featureCount`.
    private(set) var features: [Float] = []
    private(set) var relevant: [Bool] = []
    /// The score each row starts from (the linear blend's, for the default model).
    var initial: [Float] = []
    /// Query q holds rows `queryStarts[q] ..< queryStarts[q + 1]`.
    private(set) var queryStarts: [Int] = [0]
    /// The one relevant row of each query, or −1 when it has none or several.
    private(set) var onlyRelevantRow: [Int] = []

    init(featureCount: Int) {
        self.featureCount = featureCount
    }

    var rowCount: Int { relevant.count }
    var queryCount: Int { queryStarts.count - 1 }

    func rows(of query: Int) -> Range<Int> { queryStarts[query]..<queryStarts[query + 1] }

    /// Adds a query: `rows.count` / `featureCount` candidates with their labels and base scores.
    mutating func append(rows: [Float], relevant labels: [Bool], initial scores: [Float]) {
        precondition(rows.count == labels.count * featureCount && scores.count == labels.count, "one label and base score per row")
        features += rows
        relevant += labels
        initial += scores
        let start = relevant.count - labels.count
        let relevantRows = labels.indices.filter { labels[$0] }
        onlyRelevantRow.append(relevantRows.count == 1 ? start + relevantRows[0] : -1)
        queryStarts.append(relevant.count)
    }

    /// Adds every query of `other`.
    mutating func append(_ other: RankingExamples) {
        precondition(other.featureCount == featureCount, "examples of one feature layout")
        let offset = rowCount
        features += other.features
        relevant += other.relevant
        initial += other.initial
        onlyRelevantRow += other.onlyRelevantRow.map { $0 >= 0 ? $0 + offset : -1 }
        queryStarts += other.queryStarts.dropFirst().map { $0 + offset }
    }

    /// Every `step`-th query (the first, then every step-th after it).
    func every(_ step: Int) -> RankingExamples {
        guard step > 1 else { return self }
        var result = RankingExamples(featureCount: featureCount)
        for query in stride(from: 0, to: queryCount, by: step) {
            let rows = rows(of: query)
            result.append(
                rows: Array(features[(rows.lowerBound * featureCount)..<(rows.upperBound * featureCount)]),
                relevant: Array(relevant[rows]), initial: Array(initial[rows]))
        }
        return result
    }

    /// Each query's `count` rows of highest base score (ties: the earlier row), in their original order;
    /// queries whose relevant rows all fall outside are left out.
    func best(_ count: Int) -> RankingExamples {
        var result = RankingExamples(featureCount: featureCount)
        for query in 0..<queryCount {
            let rows = rows(of: query)
            let kept = Self.order(initial, rows).prefix(count).sorted()
            guard kept.contains(where: { relevant[$0] }) else { continue }
            var features: [Float] = []
            features.reserveCapacity(kept.count * featureCount)
            for row in kept { features += self.features[(row * featureCount)..<((row + 1) * featureCount)] }
            result.append(rows: features, relevant: kept.map { relevant[$0] }, initial: kept.map { initial[$0] })
        }
        return result
    }

    /// Mean NDCG@10 over the queries for per-row `scores` (ties: the earlier row first).
    /// - Complexity: O(R) for R rows when every query has one relevant row, else O(R log R).
    func ndcgAt10(_ scores: [Float]) -> Double {
        guard queryCount > 0 else { return 0 }
        return ndcgAt10PerQuery(scores).reduce(0, +) / Double(queryCount)
    }

    /// ``ndcgAt10(_:)`` of `scores + change · column`, without materialising it.
    func ndcgAt10(_ scores: [Float], plus change: Float, times column: [Float]) -> Double {
        guard queryCount > 0 else { return 0 }
        var total = 0.0
        scores.withUnsafeBufferPointer { s in
            column.withUnsafeBufferPointer { c in
                for query in 0..<queryCount {
                    let target = onlyRelevantRow[query]
                    guard target >= 0 else {
                        let rows = rows(of: query)
                        let trial = (0..<rowCount).map { $0 >= rows.lowerBound && $0 < rows.upperBound ? s[$0] + change * c[$0] : 0 }
                        total += Self.ndcgAt10(trial, relevant, rows)
                        continue
                    }
                    let score = s[target] + change * c[target]
                    var ahead = 0
                    for row in rows(of: query) {
                        let value = s[row] + change * c[row]
                        if value > score || (value == score && row < target) { ahead += 1 }
                    }
                    if ahead < 10 { total += Self.discount(ahead) }
                }
            }
        }
        return total / Double(queryCount)
    }

    /// NDCG@10 of each query.
    func ndcgAt10PerQuery(_ scores: [Float]) -> [Double] {
        (0..<queryCount).map { query in
            let target = onlyRelevantRow[query]
            guard target >= 0 else { return Self.ndcgAt10(scores, relevant, rows(of: query)) }
            // One relevant row: its rank is how many rows come before it; no sort needed.
            let score = scores[target]
            var ahead = 0
            for row in rows(of: query) where scores[row] > score || (scores[row] == score && row < target) { ahead += 1 }
            return ahead < 10 ? Self.discount(ahead) : 0
        }
    }

    /// Whether per-query values `better` beat `baseline` by more than `z` standard errors of the mean
    /// paired difference (the same queries scored two ways).
    static func significantlyBetter(_ better: [Double], than baseline: [Double], z: Double = 2) -> Bool {
        let n = Double(better.count)
        guard better.count == baseline.count, better.count > 1 else { return false }
        let differences = zip(better, baseline).map { $0 - $1 }
        let mean = differences.reduce(0, +) / n
        let variance = differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return mean > z * (variance / n).squareRoot()
    }

    /// NDCG@10 of one query's rows.
    static func ndcgAt10(_ scores: [Float], _ relevant: [Bool], _ rows: Range<Int>) -> Double {
        let order = Self.order(scores, rows)
        var dcg = 0.0
        for (rank, row) in order.prefix(10).enumerated() where relevant[row] { dcg += discount(rank) }
        let relevantCount = rows.reduce(0) { $0 + (relevant[$1] ? 1 : 0) }
        var ideal = 0.0
        for rank in 0..<min(10, relevantCount) { ideal += discount(rank) }
        return ideal > 0 ? dcg / ideal : 0
    }

    /// The rows by descending score, ties by the lower row: sorted as integer keys (the score's bits
    /// made order-preserving, then the row), much faster than sorting with a comparison closure.
    static func order(_ scores: [Float], _ rows: Range<Int>) -> [Int] {
        var keys = rows.map { row -> UInt64 in
            let bits = scores[row].bitPattern
            let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            return UInt64(~ascending) << 32 | UInt64(row - rows.lowerBound)
        }
        keys.sort()
        return keys.map { rows.lowerBound + Int($0 & 0xFFFF_FFFF) }
    }

    /// 1 / log2(rank + 2), for a 0-based rank.
    static func discount(_ rank: Int) -> Double { 1 / (logarithm(Double(rank + 2)) / logarithm(2)) }
}
