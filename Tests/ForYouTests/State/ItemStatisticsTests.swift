// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Testing

/// Every accepted event updates its item's views, completion, likes and shares, in total and per region
/// and hour, before it is acknowledged; erasure subtracts them; a restart rebuilds them from the log.
struct ItemStatisticsTests {
    typealias Counts = ItemStatisticsReport.Counts
    typealias Bucket = ItemStatisticsReport.Bucket

    /// 2026-11-26T08:00:00Z, the manual clock's start.
    static let start = Timestamp(rfc3339: "2026-11-26T08:00:00Z")!

    func engine(store: MemoryStore = MemoryStore(), clock: ManualClock = ManualClock(), retentionHours: Int = 48) async throws -> Recommender {
        var configuration = Recommender.Configuration()
        configuration.itemStatisticsRetentionHours = retentionHours
        let engine = try await Recommender.open(store: store, configuration: configuration, clock: clock)
        _ = try await engine.upsertItems([
            ItemInput(id: "v1", creator: "c1", tags: ["t"], durationMilliseconds: 20_000),
            ItemInput(id: "v2", creator: "c2", tags: ["t"], durationMilliseconds: 10_000),
        ])
        return engine
    }

    static func at(_ minutes: Int) -> String { start.advanced(byMilliseconds: Int64(minutes) * 60_000).rfc3339 }

    /// Two hours, two regions and events naming none.
    static let events = [
        EventInput(id: "e1", user: "a", item: "v1", type: "view", at: at(5), watchMilliseconds: 10_000, region: "FR-IDF"),
        EventInput(id: "e2", user: "b", item: "v1", type: "view", at: at(10), watchMilliseconds: 20_000, region: "FR-IDF"),
        EventInput(id: "e3", user: "a", item: "v1", type: "like", at: at(11), region: "FR-IDF"),
        EventInput(id: "e4", user: "c", item: "v1", type: "view", at: at(20), watchMilliseconds: 40_000, region: "FR-ARA"),
        EventInput(id: "e5", user: "c", item: "v1", type: "share", at: at(21), region: "FR-ARA"),
        EventInput(id: "e6", user: "b", item: "v1", type: "like", at: at(70)),
        EventInput(id: "e7", user: "b", item: "v1", type: "impression", at: at(71)),  // counts nowhere
        EventInput(id: "e8", user: "a", item: "v2", type: "view", at: at(72), watchMilliseconds: 5_000, region: "FR-IDF"),
    ]

    @Test func eventsAreCountedPerRegionAndHourAtOnce() async throws {
        let clock = ManualClock()
        clock.advance(byMilliseconds: 2 * Timestamp.hour)
        let engine = try await engine(clock: clock)
        #expect(try await engine.ingest(Self.events).accepted == 8)
        let report = try engine.itemStatistics(of: "v1", hours: 24)
        // Completions 0.5, 1.0 and 1.5 (a replay, capped): mean 1.0.
        #expect(report.total == Counts(views: 3, likes: 2, shares: 1, meanCompletion: 1.0))
        #expect(report.window == report.total)
        let eight = Self.start
        let nine = Self.start.advanced(byMilliseconds: Timestamp.hour)
        let expected: [Bucket] = [
            Bucket(hour: eight, region: RegionID(trusted: "FR-ARA"), counts: Counts(views: 1, likes: 0, shares: 1, meanCompletion: 1.5)),
            Bucket(hour: eight, region: RegionID(trusted: "FR-IDF"), counts: Counts(views: 2, likes: 1, shares: 0, meanCompletion: 0.75)),
            Bucket(hour: nine, region: nil, counts: Counts(views: 0, likes: 1, shares: 0, meanCompletion: nil)),
        ]
        #expect(report.buckets == expected)
        // The window is counted from the server's clock: the last hour holds only the 09:00 like.
        #expect(try engine.itemStatistics(of: "v1", hours: 2).buckets.count == 1)
        #expect(try engine.itemStatistics(of: "v2").total == Counts(views: 1, likes: 0, shares: 0, meanCompletion: 0.5))
    }

    @Test func erasureSubtractsAndARestartRebuildsFromTheLog() async throws {
        let store = MemoryStore()
        let clock = ManualClock()
        clock.advance(byMilliseconds: 2 * Timestamp.hour)
        let first = try await engine(store: store, clock: clock)
        _ = try await first.ingest(Self.events)
        let reopened = try await Recommender.open(store: store, clock: clock)
        #expect(try reopened.itemStatistics(of: "v1") == first.itemStatistics(of: "v1"))

        _ = try await first.erase(user: "a")
        let after = try first.itemStatistics(of: "v1")
        #expect(after.total == Counts(views: 2, likes: 1, shares: 1, meanCompletion: 1.25))
        #expect(after.buckets.first { $0.region == RegionID(trusted: "FR-IDF") }?.counts == Counts(views: 1, likes: 0, shares: 0, meanCompletion: 1.0))
        #expect(try first.itemStatistics(of: "v2").total == Counts(views: 0, likes: 0, shares: 0, meanCompletion: nil))
        let afterRestart = try await Recommender.open(store: store, clock: clock)
        #expect(try afterRestart.itemStatistics(of: "v1") == after)
    }

    /// Hours older than the retention are dropped whole when a newer hour begins; an event older than the
    /// window counts in the totals only.
    @Test func hoursBeyondTheRetentionAreDropped() async throws {
        let clock = ManualClock()
        clock.advance(byMilliseconds: 4 * Timestamp.hour)
        let engine = try await engine(clock: clock, retentionHours: 3)
        let view = { (id: String, minutes: Int) in EventInput(id: id, user: "u", item: "v1", type: "view", at: Self.at(minutes), watchMilliseconds: 1_000) }
        _ = try await engine.ingest([view("h0", 0), view("h1", 60), view("h2", 120)])
        #expect(engine.state.withLock { $0.statistics.entryCount } == 3)
        _ = try await engine.ingest([view("h3", 180)])
        #expect(engine.state.withLock { $0.statistics.entryCount } == 3)
        _ = try await engine.ingest([view("late", 1)])  // hour 0 is gone: totals only
        #expect(engine.state.withLock { $0.statistics.entryCount } == 3)
        let report = try engine.itemStatistics(of: "v1", hours: 3)
        #expect(report.total.views == 5)
        #expect(report.buckets.map(\.counts.views) == [1, 1])  // hours 2 and 3: the clock is at hour 4
        #expect(try engine.itemStatistics(of: "v1", hours: 3).hours == 3)
    }

    /// Before any event: zero counts, no buckets, and nothing held; taking out an event never folded in
    /// (a sign −1 before any +1) changes nothing.
    @Test func anItemWithoutEventsHasZeroCounts() async throws {
        let engine = try await engine()
        let report = try engine.itemStatistics(of: "v1")
        #expect(report.total == Counts(views: 0, likes: 0, shares: 0, meanCompletion: nil) && report.buckets.isEmpty)
        #expect(engine.statistics.itemStatisticsEntries == 0)
        var statistics = ItemStatistics(retentionHours: 2)
        statistics.reserve(items: 1)
        statistics.record(ItemCounts(of: .like, watchMilliseconds: nil, durationMilliseconds: 1), item: 0, region: nil, at: 5, sign: -1)
        #expect(statistics.totals[0].isZero && statistics.entryCount == 0)
    }

    @Test func badRequestsNameTheFieldAndTheRule() async throws {
        let engine = try await engine()
        let missing = #expect(throws: ForYouError.self) { try engine.itemStatistics(of: "nope") }
        #expect(missing?.code == .notFound)
        let hours = #expect(throws: ForYouError.self) { try engine.itemStatistics(of: "v1", hours: 49) }
        #expect(hours?.code == .invalidArgument && hours?.message.contains("`hours` must be in 1...48") == true)
        let result = try await engine.ingest([EventInput(id: "r", user: "u", item: "v1", type: "like", region: "")])
        #expect(result.rejected.first?.code == .invalidID && result.rejected.first?.message.contains("`region`") == true)
        var bad = Recommender.Configuration()
        bad.itemStatisticsRetentionHours = 0
        #expect(throws: ForYouError.self) { try bad.validate() }
    }
}
