// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting
import Testing

struct FeedTests {
    @Test func unknownUserGetsAColdStartFeed() async throws {
        let fixture = try await FeedFixture()
        let feed = try await fixture.engine.feed(for: "stranger", count: 10)
        #expect(feed.entries.count == 10)
        #expect(Set(feed.entries.map(\.item)).count == 10)
        #expect(feed.modelVersion == Recommender.modelVersion)
    }

    @Test func aLikeChangesTheVeryNextFeed() async throws {
        let fixture = try await FeedFixture()
        _ = try await fixture.engine.feed(for: "u", count: 5)
        try await fixture.like("u", "c2-v0", id: "like-1")
        let feed = try await fixture.engine.feed(for: "u", count: 5)
        // Food items were co-watched with c2-v0 by the background users: they lead the feed now.
        let first = try #require(feed.entries.first)
        #expect(FeedFixture.creator(of: first.item) == "c2")
        #expect(first.reason == .coVisitation(because: ItemID(trusted: "c2-v0")))
        #expect(first.reason.sentence == "because you watched c2-v0")
    }

    @Test func neverRepeatsAnItemAndRunsDryWithoutError() async throws {
        let fixture = try await FeedFixture()
        var seen = Set<ItemID>()
        var total = 0
        for _ in 0..<10 {
            let feed = try await fixture.engine.feed(for: "u", count: 7)
            total += feed.entries.count
            for entry in feed.entries { #expect(seen.insert(entry.item).inserted, "\(entry.item) served twice") }
        }
        // 40 items, 10 requests of 7: the catalogue runs out, then feeds are empty, not errors.
        #expect(total <= 40)
        #expect(total >= 30)
        let last = try await fixture.engine.feed(for: "u", count: 7)
        #expect(last.entries.isEmpty)
    }

    @Test func servedItemsComeBackAfterTheNoRepeatWindow() async throws {
        var configuration = Recommender.Configuration()
        configuration.feed.noRepeatWindowMilliseconds = Timestamp.hour
        let fixture = try await FeedFixture(configuration: configuration)
        let first = try await fixture.engine.feed(for: "u", count: 10)
        fixture.clock.advance(byMilliseconds: Timestamp.hour)
        var again = Set<ItemID>()
        for _ in 0..<4 { again.formUnion(try await fixture.engine.feed(for: "u", count: 10).entries.map(\.item)) }
        #expect(Set(first.entries.map(\.item)).isSubset(of: again))
    }

    @Test func neverTwoItemsInARowFromTheSameCreator() async throws {
        let fixture = try await FeedFixture()
        try await fixture.like("u", "c1-v0", id: "l1")
        try await fixture.like("u", "c1-v1", id: "l2")
        var previous: String?
        for _ in 0..<5 {
            for entry in try await fixture.engine.feed(for: "u", count: 6).entries {
                let creator = FeedFixture.creator(of: entry.item)
                #expect(creator != previous, "two items of \(creator) in a row")
                previous = creator
            }
        }
    }

    @Test func notInterestedDropsTheItemAndItsCreatorAtOnce() async throws {
        let fixture = try await FeedFixture()
        try await fixture.like("u", "c3-v0", id: "l1")
        let before = try await fixture.engine.feed(for: "u", count: 10)
        #expect(before.entries.contains { FeedFixture.creator(of: $0.item) == "c3" })
        _ = try await fixture.engine.ingest([EventInput(id: "ni", user: "u", item: "c3-v5", type: "not_interested")])
        for _ in 0..<3 {
            let after = try await fixture.engine.feed(for: "u", count: 10)
            #expect(!after.entries.contains { FeedFixture.creator(of: $0.item) == "c3" })
        }
    }

    @Test func newItemFromAFollowedCreatorAppearsWithItsReason() async throws {
        let fixture = try await FeedFixture()
        _ = try await fixture.engine.ingest([EventInput(id: "f", user: "u", creator: "c0", type: "follow")])
        _ = try await fixture.engine.upsertItems([
            ItemInput(id: "c0-new", creator: "c0", tags: ["cats"], durationMilliseconds: 9_000, language: "en")
        ])
        let feed = try await fixture.engine.feed(for: "u", count: 5)
        let entry = try #require(feed.entries.first { $0.item.rawValue == "c0-new" })
        #expect(entry.reason == .followedCreator(CreatorID(trusted: "c0")))
    }

    @Test func aboutOneInTenSlotsExploresFreshItems() async throws {
        let fixture = try await FeedFixture()
        _ = try await fixture.engine.upsertItems((0..<20).map {
            ItemInput(id: "fresh-\($0)", creator: "n\($0)", tags: ["new"], durationMilliseconds: 9_000, language: "en")
        })
        let feed = try await fixture.engine.feed(for: "u", count: 10)
        let explored = feed.entries.filter { $0.reason == .exploration }
        #expect(explored.count == 1)
        #expect(explored.allSatisfy { $0.item.rawValue.hasPrefix("fresh-") })
    }

    @Test func sameInputsSeedAndClockGiveTheSameFeeds() async throws {
        var feeds: [[[FeedEntry]]] = []
        for _ in 0..<2 {
            let fixture = try await FeedFixture()
            try await fixture.like("u", "c2-v3", id: "l1")
            var run: [[FeedEntry]] = []
            for user in ["u", "stranger", "b1"] { run.append(try await fixture.engine.feed(for: user, count: 8).entries) }
            feeds.append(run)
        }
        #expect(feeds[0] == feeds[1])
    }

    @Test func countOutsideOneToHundredIsRefused() async throws {
        let fixture = try await FeedFixture()
        for count in [0, -1, 101] {
            let error = await #expect(throws: ForYouError.self) { try await fixture.engine.feed(for: "u", count: count) }
            #expect(error?.code == .invalidArgument)
        }
        let error = await #expect(throws: ForYouError.self) { try await fixture.engine.feed(for: "", count: 5) }
        #expect(error?.code == .invalidID)
    }
}

struct DominantCreatorTests {
    /// When one creator's items fill the top of the ranking, the feed still fills up (alternating with
    /// other creators' items) instead of ending early: two items in a row never share a creator.
    @Test func aCreatorWithManyLikedItemsDoesNotEndTheFeedEarly() async throws {
        let clock = ManualClock()
        let engine = try await Recommender.open(store: MemoryStore(), clock: clock)
        let published = clock.now().advanced(byMilliseconds: -Timestamp.day).rfc3339
        var items = (0..<150).map { ItemInput(id: "big-\($0)", creator: "big", tags: ["x"], durationMilliseconds: 10_000, publishedAt: published) }
        items += (0..<20).map { ItemInput(id: "small-\($0)", creator: "s\($0)", tags: ["y"], durationMilliseconds: 10_000, publishedAt: published) }
        _ = try await engine.upsertItems(items)
        _ = try await engine.ingest((0..<10).map { EventInput(id: "l\($0)", user: "fan", item: "big-\($0)", type: "like") })
        for _ in 0..<3 {
            let feed = try await engine.feed(for: "fan", count: 10)
            #expect(feed.entries.count == 10)
            let creators = feed.entries.map { $0.item.rawValue.hasPrefix("big") ? "big" : $0.item.rawValue }
            #expect(zip(creators, creators.dropFirst()).allSatisfy { $0 != $1 })
        }
    }
}
