// SPDX-License-Identifier: Apache-2.0
//
// Orders over the catalogue that feeds walk instead of looking at every item: the most trending items,
// the most popular items, the same two per tag, and all items newest first. They are kept up as the
// state changes: a positive engagement raises its item in the lists it belongs to (O(depth)), new or
// re-dated items are merged into the recency order (O(N) per upsert batch, not per feed). Only an
// erasure, which lowers values, or a re-tagged item marks them stale; the next feed rebuilds them
// (O(N · tags)). A feed walks an order and skips what the user may not see.

struct GlobalRankings {
    /// How many items the global trending and popular orders keep.
    static let depth = 1_000
    /// How many items each tag's trending and popular orders keep.
    static let tagDepth = 60

    private var trendingList = RankedList(depth: depth)
    private var popularList = RankedList(depth: depth)
    private var trendingByTag: [RankedList] = []
    private var popularByTag: [RankedList] = []

    /// The most trending items (trending > 0), best first, at most `depth`.
    var trending: [Int32] { trendingList.items }
    /// The most popular items, best first, at most `depth`.
    var popular: [Int32] { popularList.items }
    /// Every item, newest publication first.
    private(set) var newestFirst: [Int32] = []
    /// Set when values went down or tags changed: the lists are rebuilt before the next read.
    private(set) var isStale = false

    /// The tag's most popular items, then its most trending ones not already listed (at most
    /// 2 × `tagDepth`): the items worth ranking for a favourite tag.
    func leading(inTag tag: Int32) -> [Int32] {
        guard Int(tag) < popularByTag.count else { return [] }
        let popular = popularByTag[Int(tag)].items
        return popular + trendingByTag[Int(tag)].items.filter { !popular.contains($0) }
    }

    /// An item's engagement grew (a positive event).
    mutating func raise(_ item: Int32, catalog: CatalogIndex, engagement: EngagementState) {
        guard !isStale else { return }
        let trending = engagement.trending[Int(item)]
        let popularity = Double(engagement.popularity[Int(item)])
        if trending > 0 { trendingList.raise(item, to: trending) }
        popularList.raise(item, to: popularity)
        for tag in catalog.tagsOfItem[Int(item)] {
            if trending > 0 { trendingByTag[Int(tag)].raise(item, to: trending) }
            popularByTag[Int(tag)].raise(item, to: popularity)
        }
    }

    /// Engagement went down somewhere (an erasure): rebuild before the next read.
    mutating func markStale() { isStale = true }

    /// Items were upserted: `added` are new indices (engagement 0), `redated` existing items whose
    /// publication time changed (each index once, none in `added`); `retagged` when an existing item's
    /// tags changed (the per-tag orders are then rebuilt before the next read).
    mutating func catalogChanged(added: [Int32], redated changed: [Int32], retagged: Bool, catalog: CatalogIndex) {
        while trendingByTag.count < catalog.tags.count {
            trendingByTag.append(RankedList(depth: Self.tagDepth))
            popularByTag.append(RankedList(depth: Self.tagDepth))
        }
        if retagged { isStale = true }
        if !isStale {
            popularList.appendLowest(added)
            for item in added {
                for tag in catalog.tagsOfItem[Int(item)] { popularByTag[Int(tag)].appendLowest([item]) }
            }
        }
        // Recency: drop the changed items, then merge in the new and changed ones, sorted.
        let moved = added + changed
        guard !moved.isEmpty else { return }
        func newer(_ a: Int32, _ b: Int32) -> Bool {
            let x = catalog.items[Int(a)].publishedAt
            let y = catalog.items[Int(b)].publishedAt
            return x > y || (x == y && a < b)
        }
        let incoming = moved.sorted(by: newer)
        var kept = newestFirst
        if !changed.isEmpty {
            let changedSet = Set(changed)
            kept.removeAll { changedSet.contains($0) }
        }
        var merged: [Int32] = []
        merged.reserveCapacity(kept.count + incoming.count)
        var i = 0
        var j = 0
        while i < kept.count || j < incoming.count {
            if j == incoming.count || (i < kept.count && newer(kept[i], incoming[j])) {
                merged.append(kept[i])
                i += 1
            } else {
                merged.append(incoming[j])
                j += 1
            }
        }
        newestFirst = merged
    }

    /// Rebuilds the engagement orders when stale. - Complexity: O(N · tags) when stale, else O(1).
    mutating func refresh(catalog: CatalogIndex, engagement: EngagementState) {
        guard isStale else { return }
        let trending = { (i: Int32) in engagement.trending[Int(i)] }
        let popularity = { (i: Int32) in Double(engagement.popularity[Int(i)]) }
        let all = 0..<Int32(catalog.count)
        trendingList.rebuild(from: all.lazy.filter { engagement.trending[Int($0)] > 0 }, key: trending)
        popularList.rebuild(from: all, key: popularity)
        for tag in catalog.itemsByTag.indices {
            let items = catalog.itemsByTag[tag]
            trendingByTag[tag].rebuild(from: items.lazy.filter { engagement.trending[Int($0)] > 0 }, key: trending)
            popularByTag[tag].rebuild(from: items, key: popularity)
        }
        isStale = false
    }
}
