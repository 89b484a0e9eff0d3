// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting
import Testing

struct UserControlTests {
    /// The non-profiled feed reads no profile: users with opposite histories get the same feed, and
    /// only explicit exclusions differ.
    @Test func theNonProfiledFeedIsTheSameForEveryHistory() async throws {
        let fixture = try await FeedFixture()
        for n in 0..<5 { try await fixture.like("cat-lover", "c0-v\(n)", id: "cat-\(n)") }
        for n in 0..<5 { try await fixture.like("car-lover", "c3-v\(n)", id: "car-\(n)") }
        _ = try await fixture.engine.feed(for: "car-lover", count: 10)
        let cats = try await fixture.engine.feed(for: "cat-lover", count: 10, personalized: false)
        let cars = try await fixture.engine.feed(for: "car-lover", count: 10, personalized: false)
        let stranger = try await fixture.engine.feed(for: "stranger", count: 10, personalized: false)
        #expect(cats.entries == cars.entries && cars.entries == stranger.entries)
        #expect(cats.personalized == false && cats.modelVersion == "non-profiled-v1")
        #expect(cats.entries.allSatisfy { ["trending", "popular"].contains($0.reason.source) })
        // Asking again gives the same page; the next page continues the same order.
        #expect(try await fixture.engine.feed(for: "cat-lover", count: 10, personalized: false).entries == cats.entries)
        let next = try await fixture.engine.feed(for: "cat-lover", count: 10, personalized: false, offset: 10)
        #expect(Set(next.entries.map(\.item)).isDisjoint(with: cats.entries.map(\.item)))
        // The personalized feeds of the two differ.
        let personal = try await fixture.engine.feed(for: "cat-lover", count: 10)
        #expect(personal.entries.map(\.item) != cats.entries.map(\.item))

        // Explicit exclusions still apply: a not-interested creator, a keyword.
        let blocked = try #require(cats.entries.first?.item)
        _ = try await fixture.engine.ingest([EventInput(id: "ni", user: "car-lover", item: blocked.rawValue, type: "not_interested")])
        try await fixture.engine.setControls(of: "car-lover", to: UserControls(personalized: false, keywordFilters: ["DOGS"]))
        let filtered = try await fixture.engine.feed(for: "car-lover", count: 10)  // the control alone selects the non-profiled feed
        #expect(filtered.personalized == false)
        #expect(!filtered.entries.contains { FeedFixture.creator(of: $0.item) == FeedFixture.creator(of: blocked) })
        #expect(!filtered.entries.contains { FeedFixture.creator(of: $0.item) == "c1" })  // c1's items are tagged dogs
    }

    @Test func topicPreferencesAndKeywordFiltersShapeThePersonalizedFeed() async throws {
        let fixture = try await FeedFixture()
        try await fixture.like("u", "c0-v0", id: "l0")
        try await fixture.like("u", "c0-v1", id: "l1")
        try await fixture.engine.setControls(of: "u", to: UserControls(topics: ["cats": .less, "food": .more], keywordFilters: ["car"]))
        var shown: [FeedEntry] = []
        for _ in 0..<3 { shown += try await fixture.engine.feed(for: "u", count: 6).entries }
        #expect(!shown.contains { FeedFixture.creator(of: $0.item) == "c3" }, "a keyword-filtered item was shown")
        let first = try #require(shown.first)
        #expect(FeedFixture.creator(of: first.item) == "c2", "food (more) should lead, got \(first.item)")
        #expect(first.signals.contains { $0.name == "topic_more" })
        #expect(shown.filter { $0.signals.contains { $0.name == "topic_less" } }.allSatisfy { FeedFixture.creator(of: $0.item) == "c0" })

        let invalid = await #expect(throws: ForYouError.self) {
            try await fixture.engine.setControls(of: "u", to: UserControls(keywordFilters: [String(repeating: "x", count: 65)]))
        }
        #expect(invalid?.message.contains("keyword_filters") == true)
    }

    @Test func resetForgetsTheProfileKeepsTheAccountAndHoldsAfterRestart() async throws {
        let fixture = try await FeedFixture()
        for n in 0..<4 { try await fixture.like("u", "c0-v\(n)", id: "l\(n)") }
        _ = try await fixture.engine.ingest([EventInput(id: "f", user: "u", item: "c1-v0", type: "follow")])
        try await fixture.engine.setControls(of: "u", to: UserControls(keywordFilters: ["cars"]))
        let before = try await fixture.engine.export(user: "u")
        #expect(before.tagAffinities.first?.tag == "cats")

        try await fixture.engine.resetProfile(of: "u")
        let after = try await fixture.engine.export(user: "u")
        #expect(after.tagAffinities.filter { $0.tag != "dogs" }.isEmpty, "affinities left: \(after.tagAffinities)")
        #expect(after.followedCreators.map(\.rawValue) == ["c1"])
        #expect(after.controls.keywordFilters == ["cars"] && after.controls.resetAt != nil)
        let feed = try await fixture.engine.feed(for: "u", count: 10)
        #expect(!feed.entries.contains { $0.reason.source == "co_visitation" || $0.reason.source == "favourite_tag" })

        let reopened = try await Recommender.open(store: fixture.store, clock: fixture.clock)
        let replayed = try await reopened.export(user: "u")
        #expect(replayed.tagAffinities.map(\.tag) == after.tagAffinities.map(\.tag))
        #expect(replayed.controls == after.controls)
        // New engagement after the reset is learned again.
        _ = try await reopened.ingest([EventInput(id: "new", user: "u", item: "c2-v0", type: "like")])
        #expect(try await reopened.export(user: "u").tagAffinities.first?.tag == "food")
    }

    @Test func theExportHoldsEverythingAboutTheUserAndNothingElse() async throws {
        let fixture = try await FeedFixture()
        try await fixture.like("u", "c0-v0", id: "l0")
        _ = try await fixture.engine.ingest([EventInput(id: "n", user: "u", item: "c3-v0", type: "not_interested")])
        _ = try await fixture.engine.feed(for: "u", count: 5)
        let export = try await fixture.engine.export(user: "u")
        #expect(export.events.map(\.id.rawValue) == ["l0", "n"])
        #expect(export.served.count == 5 && export.served.allSatisfy { $0.user.rawValue == "u" })
        #expect(export.notInterestedItems.map(\.rawValue) == ["c3-v0"] && export.notInterestedCreators.map(\.rawValue) == ["c3"])
        #expect(export.tagAffinities.first?.tag == "cats")
        #expect(export.pseudonym.hasPrefix("p-"))
        // Nothing is held about an unknown id: the export says so and stores nothing about it.
        let unknown = await #expect(throws: ForYouError.self) { try await fixture.engine.export(user: "typo") }
        #expect(unknown?.code == .notFound)
        #expect(!(try await fixture.engine.auditLog().lines.contains { $0.contains("user.exported") && !$0.contains(export.pseudonym) }))
    }

    @Test func apiKeysAuthenticateUntilRevoked() async throws {
        let store = MemoryStore()
        let engine = try await Recommender.open(store: store, clock: ManualClock())
        #expect(!engine.requiresAuthentication)
        let (key, record) = try await engine.createAPIKey(name: "app", role: .serve)
        #expect(engine.requiresAuthentication)
        #expect(engine.authenticate(key)?.id == record.id && engine.authenticate(key)?.role == .serve)
        #expect(engine.authenticate(String(key.dropLast()) + (key.last == "0" ? "1" : "0")) == nil)
        #expect(engine.authenticate("fy_\(record.id)_") == nil && engine.authenticate("") == nil)
        #expect(try await engine.apiKeys().allSatisfy { $0.secretHash != Array(key.utf8) })
        try await engine.revokeAPIKey(id: record.id)
        // Revoking the last key locks the API; it never opens it again.
        #expect(engine.authenticate(key) == nil && engine.requiresAuthentication)
        let reopened = try await Recommender.open(store: store, clock: ManualClock())
        #expect(reopened.requiresAuthentication)
    }
}
