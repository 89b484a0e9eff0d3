// SPDX-License-Identifier: Apache-2.0
//
// Orders over the whole catalogue that every feed walks: the most trending items, the most popular
// items, and all items newest first. Computing them costs O(N) (O(N log N) for recency), so they are
// cached and recomputed only on the first feed after the engagement or the catalogue changed. A feed
// walks an order and skips what the user may not see, instead of checking every item.

struct GlobalRankings {
    /// The most trending items (trending > 0), best first, at most `depth`.
    private(set) var trending: [Int32] = []
    /// The most popular items, best first, at most `depth`.
    private(set) var popular: [Int32] = []
    /// Every item, newest publication first.
    private(set) var newestFirst: [Int32] = []

    /// How many items the trending and popular orders keep.
    static let depth = 1_000

    private var engagementVersion = -1
    private var catalogVersion = -1

    /// Recomputes what is stale.
    mutating func refresh(catalog: CatalogIndex, catalogVersion: Int, engagement: EngagementState, engagementVersion: Int) {
        if engagementVersion != self.engagementVersion || catalogVersion != self.catalogVersion {
            var trendingTop = TopK(Self.depth)
            var popularTop = TopK(Self.depth)
            for index in 0..<Int32(catalog.count) {
                let value = engagement.trending[Int(index)]
                if value > 0 { trendingTop.insert(index, score: Float(value / max(engagement.maximumTrending, .leastNormalMagnitude))) }
                popularTop.insert(index, score: engagement.popularity[Int(index)])
            }
            trending = trendingTop.sorted().map(\.element)
            popular = popularTop.sorted().map(\.element)
            self.engagementVersion = engagementVersion
        }
        if catalogVersion != self.catalogVersion {
            newestFirst = (0..<Int32(catalog.count)).sorted {
                let a = catalog.items[Int($0)].publishedAt
                let b = catalog.items[Int($1)].publishedAt
                return a > b || (a == b && $0 < $1)
            }
            self.catalogVersion = catalogVersion
        }
    }
}
