// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Testing

@Suite struct RankedListTests {
    /// Keys that only grow, raised one at a time, give the same list as a rebuild from every item,
    /// ties (many equal keys) included.
    @Test func raisingKeysOneAtATimeEqualsRebuilding() {
        var random = SplitMix64(seed: 7)
        var keys = [Double](repeating: 0, count: 500)
        var kept = RankedList(depth: 40)
        kept.appendLowest(0..<500)
        for _ in 0..<5_000 {
            let item = Int32(random.next() % 500)
            keys[Int(item)] += Double(random.next() % 3)  // 0 now and then: raising by nothing is allowed
            kept.raise(item, to: keys[Int(item)])
            var rebuilt = RankedList(depth: 40)
            rebuilt.rebuild(from: 0..<500) { keys[Int($0)] }
            #expect(kept.items == rebuilt.items)
            if kept.items != rebuilt.items { return }
        }
    }

    @Test func aShortListKeepsEveryItemInOrder() {
        let keys: [Double] = [1, 3, 3, 0, 2]
        var list = RankedList(depth: 10)
        list.rebuild(from: 0..<5) { keys[Int($0)] }
        #expect(list.items == [1, 2, 4, 0, 3])
    }
}

@Suite struct GlobalRankingsTests {
    /// The orders kept up event by event equal the orders rebuilt from scratch (what an erasure
    /// triggers), for the global lists, each tag's leading items and recency.
    @Test func incrementalOrdersEqualRebuiltOrders() async throws {
        let clock = ManualClock()
        let engine = try await Recommender.open(store: MemoryStore(), clock: clock)
        let world = DemoWorld.generate(seed: 11, size: .small, now: clock.now())
        for batch in stride(from: 0, to: world.items.count, by: 1_000) {
            _ = try await engine.upsertItems(Array(world.items[batch..<min(batch + 1_000, world.items.count)]))
        }
        for batch in stride(from: 0, to: world.events.count, by: 1_000) {
            _ = try await engine.ingest(Array(world.events[batch..<min(batch + 1_000, world.events.count)]))
        }
        let (kept, rebuilt) = engine.state.withLock { state -> (GlobalRankings, GlobalRankings) in
            var rebuilt = state.rankings
            rebuilt.markStale()
            rebuilt.refresh(catalog: state.catalog, engagement: state.engagement)
            return (state.rankings, rebuilt)
        }
        #expect(!kept.isStale)
        #expect(kept.trending == rebuilt.trending)
        #expect(kept.popular == rebuilt.popular)
        #expect(!kept.trending.isEmpty)
        let tags = engine.state.withLock { $0.catalog.tags.count }
        #expect(tags > 1)
        for tag in 0..<Int32(tags) { #expect(kept.leading(inTag: tag) == rebuilt.leading(inTag: tag)) }
        let newest = engine.state.withLock { state in
            (0..<Int32(state.catalog.count)).sorted {
                let a = state.catalog.items[Int($0)].publishedAt
                let b = state.catalog.items[Int($1)].publishedAt
                return a > b || (a == b && $0 < $1)
            }
        }
        #expect(kept.newestFirst == newest)
    }

    /// An item named twice in one upsert batch (new, then re-dated) is in the recency order once.
    @Test func anItemNamedTwiceInOneBatchIsInTheRecencyOrderOnce() async throws {
        let clock = ManualClock()
        let engine = try await Recommender.open(store: MemoryStore(), clock: clock)
        let hourAgo = clock.now().advanced(byMilliseconds: -3_600_000).rfc3339
        let dayAgo = clock.now().advanced(byMilliseconds: -86_400_000).rfc3339
        _ = try await engine.upsertItems([ItemInput(id: "a", creator: "c", tags: ["t"], durationMilliseconds: 1_000, publishedAt: dayAgo)])
        _ = try await engine.upsertItems([
            ItemInput(id: "b", creator: "c", tags: ["t"], durationMilliseconds: 1_000, publishedAt: dayAgo),
            ItemInput(id: "b", creator: "c", tags: ["t"], durationMilliseconds: 1_000, publishedAt: hourAgo),
            ItemInput(id: "a", creator: "c", tags: ["t"], durationMilliseconds: 1_000, publishedAt: hourAgo),
            ItemInput(id: "a", creator: "c", tags: ["t"], durationMilliseconds: 1_000, publishedAt: dayAgo),
        ])
        let newest = engine.state.withLock { state in state.rankings.newestFirst.map { state.catalog.items[Int($0)].id.rawValue } }
        #expect(newest == ["b", "a"])
    }
}
