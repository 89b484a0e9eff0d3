// SPDX-License-Identifier: Apache-2.0
//
// The feed not based on profiling (EU Digital Services Act, Art. 38): the same global order for every
// user — trending, then popular, then newest — minus only what the user excluded explicitly (items and
// creators marked not interested, keyword filters). It is built by a separate type whose inputs are an
// allow-list: the catalogue, the global orders and the explicit exclusions. It cannot read a user's
// history, affinities, follows, served items or the trained model, because it is never given them.

/// What the user excluded explicitly; the only per-user input of the non-profiled feed.
struct ExplicitExclusions {
    var items: Set<Int32> = []
    var creators: Set<Int32> = []
    /// Lowercased keyword filters.
    var keywords: [String] = []
}

/// The allow-listed inputs of the non-profiled feed.
struct NonProfiledInputs {
    let catalog: CatalogIndex
    /// Global orders, best first.
    let trending: [Int32]
    let popular: [Int32]
    let newestFirst: [Int32]
    /// Each item's trending score scaled to 0...1 and its popularity (global aggregates).
    let trendingScore: (Int32) -> Float
    let popularity: (Int32) -> Float
    let exclusions: ExplicitExclusions
    let now: Int64
}

enum NonProfiledFeed {
    /// Items `offset ..< offset + count` of the global order, with no two from the same creator in a row.
    /// - Complexity: O(N) in the worst case, for N catalogued items.
    static func build(_ inputs: NonProfiledInputs, count: Int, offset: Int) -> [FeedEntry] {
        let catalog = inputs.catalog
        var seen = Set<Int32>()
        var order: [(item: Int32, reason: FeedReason, signal: FeedSignal)] = []
        let wanted = offset + count
        func take(_ items: [Int32], _ reason: FeedReason, _ signal: (Int32) -> FeedSignal) {
            for item in items {
                if order.count >= wanted + 16 { break }
                let i = Int(item)
                guard seen.insert(item).inserted, catalog.items[i].publishedAt.milliseconds <= inputs.now,
                    !inputs.exclusions.items.contains(item), !inputs.exclusions.creators.contains(catalog.creatorOfItem[i]),
                    inputs.exclusions.keywords.isEmpty || !catalog.matches(item, anyOf: inputs.exclusions.keywords)
                else { continue }
                order.append((item, reason, signal(item)))
            }
        }
        take(inputs.trending, .trending) { FeedSignal(name: "trending", value: inputs.trendingScore($0)) }
        take(inputs.popular, .popular) { FeedSignal(name: "popular", value: inputs.popularity($0)) }
        take(inputs.newestFirst, .popular) { _ in FeedSignal(name: "newest", value: 0) }
        // Space creators: take the next entry whose creator differs from the previous one's.
        var spaced: [(item: Int32, reason: FeedReason, signal: FeedSignal)] = []
        var lastCreator: Int32 = -1
        while !order.isEmpty && spaced.count < wanted {
            let index = order.firstIndex { catalog.creatorOfItem[Int($0.item)] != lastCreator } ?? 0
            let next = order.remove(at: index)
            lastCreator = catalog.creatorOfItem[Int(next.item)]
            spaced.append(next)
        }
        return spaced.dropFirst(offset).enumerated().map { position, entry in
            FeedEntry(
                item: catalog.items[Int(entry.item)].id, score: Float(wanted - offset - position), reason: entry.reason,
                signals: [entry.signal])
        }
    }
}

extension EngineState {
    /// The non-profiled feed for a user: only the explicit exclusions are read from their state. The
    /// items are recorded as seen (for exposure counts) but seen items are not filtered out.
    mutating func makeNonProfiledFeed(for userID: UserID, count: Int, offset: Int, now: Int64, record: Bool = true) -> [FeedEntry] {
        rankings.refresh(catalog: catalog, engagement: engagement)
        let stored = users.removeValue(forKey: userID)
        var user = stored ?? UserState()
        let exclusions = ExplicitExclusions(
            items: user.blockedItems, creators: user.blockedCreators, keywords: controls[userID]?.loweredKeywords ?? [])
        let engagement = self.engagement
        let inputs = NonProfiledInputs(
            catalog: catalog, trending: rankings.trending, popular: rankings.popular, newestFirst: rankings.newestFirst,
            trendingScore: { engagement.normalizedTrending($0) }, popularity: { engagement.popularity[Int($0)] },
            exclusions: exclusions, now: now)
        let entries = NonProfiledFeed.build(inputs, count: count, offset: offset)
        guard record else {
            users[userID] = stored
            return entries
        }
        markServed(entries, to: &user, at: now)
        users[userID] = user
        return entries
    }
}
