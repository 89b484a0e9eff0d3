// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting
import Testing

struct ErasureTests {
    /// Events of two users who watch food and car items together, so they build co-visitation.
    func events(of user: String) -> [EventInput] {
        ["c2-v1", "c3-v1", "c2-v2", "c3-v2", "c1-v4"].enumerated().map {
            EventInput(id: "\(user)-\($0.offset)", user: user, item: $0.element, type: "view", watchMilliseconds: 20_000)
        }
    }

    @Test func erasingAUserLeavesTheStateAsIfTheyHadNeverBeen() async throws {
        let withUser = try await FeedFixture()
        _ = try await withUser.engine.ingest(events(of: "x") + events(of: "y"))
        _ = try await withUser.engine.feed(for: "x", count: 5)
        let erased = try await withUser.engine.erase(user: "x")
        #expect(try await withUser.store.served(since: Timestamp(milliseconds: 0)).isEmpty)
        #expect(erased == 5)
        #expect(try await withUser.store.events(of: UserID(trusted: "x")).isEmpty)

        let without = try await FeedFixture()
        _ = try await without.engine.ingest(events(of: "y"))

        for probe in ["z", "y"] {
            try await withUser.like(probe, "c2-v1", id: "probe-\(probe)")
            try await without.like(probe, "c2-v1", id: "probe-\(probe)")
            let a = try await withUser.engine.feed(for: probe, count: 8)
            let b = try await without.engine.feed(for: probe, count: 8)
            #expect(a.entries.map(\.item) == b.entries.map(\.item))
            for (x, y) in zip(a.entries, b.entries) {
                #expect(abs(x.score - y.score) < 1e-4)
                #expect(x.reason == y.reason)
            }
        }
    }

    @Test func anErasedUserStartsAgainFromColdStart() async throws {
        let fixture = try await FeedFixture()
        try await fixture.like("x", "c2-v1", id: "l1")
        let before = try await fixture.engine.feed(for: "x", count: 10)
        #expect(before.entries.contains { $0.reason.source == "co_visitation" })
        _ = try await fixture.engine.erase(user: "x")
        #expect(try await fixture.store.served(since: Timestamp(milliseconds: 0)).allSatisfy { $0.user.rawValue != "x" })
        let after = try await fixture.engine.feed(for: "x", count: 10)
        // No profile is left: only cold-start sources, and items served before may be shown again.
        #expect(after.entries.allSatisfy { ["trending", "popular", "exploration"].contains($0.reason.source) })
        #expect(!Set(after.entries.map(\.item)).isDisjoint(with: before.entries.map(\.item)))
    }
}
