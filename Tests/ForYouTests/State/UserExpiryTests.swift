// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Testing

/// What the engine learned about a user idle longer than the expiry is dropped (follows and
/// not-interested marks stay), during a run and, the same way, when the engine reopens.
struct UserExpiryTests {
    func openEngine(store: MemoryStore, clock: ManualClock) async throws -> Recommender {
        var configuration = Recommender.Configuration()
        configuration.feed.userProfileExpiryMilliseconds = 31 * Timestamp.day
        let engine = try await Recommender.open(store: store, configuration: configuration, clock: clock)
        return engine
    }

    @Test func idleUsersForgetTheirProfileButKeepTheirChoices() async throws {
        let store = MemoryStore()
        let clock = ManualClock()
        let engine = try await openEngine(store: store, clock: clock)
        _ = try await engine.upsertItems((0..<4).map { ItemInput(id: "v\($0)", creator: "c\($0)", tags: ["t\($0)"], durationMilliseconds: 10_000) })
        _ = try await engine.ingest([
            EventInput(id: "1", user: "chooser", item: "v0", type: "like"),
            EventInput(id: "2", user: "chooser", item: "v1", type: "follow"),
            EventInput(id: "3", user: "chooser", item: "v2", type: "not_interested"),
            EventInput(id: "4", user: "gone", item: "v0", type: "like"),
        ])
        _ = try await engine.feed(for: "reader", count: 2)  // a reader without events: kept while they saw items within the window
        clock.advance(byMilliseconds: 20 * Timestamp.day)
        _ = try await engine.feed(for: "reader", count: 2)
        clock.advance(byMilliseconds: 12 * Timestamp.day)  // 32 days after the events, 12 after the feed
        _ = try await engine.ingest([EventInput(id: "5", user: "active", item: "v3", type: "like")])
        // Expired as soon as the time has passed, before any sweep: feeds and the profile agree.
        #expect(try engine.profile(of: "chooser").recentPositives == 0)
        #expect(engine.state.withLock { $0.users[UserID(trusted: "chooser")]?.recent.count } == 2)  // held until a sweep

        engine.sweepIdleUsers()
        #expect(engine.statistics.usersExpired == 2)
        let chooser = try engine.profile(of: "chooser")
        #expect(chooser.recentPositives == 0 && chooser.tagAffinities.isEmpty && chooser.creatorAffinities.isEmpty)
        #expect(chooser.followedCreators == [CreatorID(trusted: "c1")])
        #expect(chooser.notInterestedItems == [ItemID(trusted: "v2")])
        #expect(engine.state.withLock { $0.users[UserID(trusted: "gone")] == nil })
        #expect(try engine.profile(of: "active").recentPositives == 1)
        #expect(engine.state.withLock { $0.users[UserID(trusted: "reader")] != nil })
        // The aggregates keep the expired users' events: v0 is still the most liked.
        #expect(try engine.itemStatistics(of: "v0").total.likes == 2)

        // Reopened at the same time, the engine expires the same users from the log.
        let reopened = try await openEngine(store: store, clock: clock)
        #expect(try reopened.profile(of: "chooser").recentPositives == 0)
        #expect(try reopened.profile(of: "chooser").followedCreators == [CreatorID(trusted: "c1")])
        #expect(reopened.state.withLock { $0.users[UserID(trusted: "gone")] == nil })
        #expect(try reopened.profile(of: "active").recentPositives == 1)

        // A user back after the expiry starts a new profile, in the running engine and after a restart.
        _ = try await engine.ingest([EventInput(id: "6", user: "chooser", item: "v3", type: "like")])
        #expect(try engine.profile(of: "chooser").recentPositives == 1)
        let again = try await openEngine(store: store, clock: clock)
        #expect(try again.profile(of: "chooser").recentPositives == 1)
        #expect(try again.profile(of: "chooser").followedCreators == [CreatorID(trusted: "c1")])
    }

    @Test func theExpiryIsAtLeastTheNoRepeatWindow() {
        var configuration = Recommender.Configuration()
        configuration.feed.userProfileExpiryMilliseconds = 29 * Timestamp.day
        let error = #expect(throws: ForYouError.self) { try configuration.validate() }
        #expect(error?.message.contains("feed.user_profile_expiry_ms") == true)
        configuration.feed.userProfileExpiryMilliseconds = nil
        #expect(throws: Never.self) { try configuration.validate() }
    }
}
