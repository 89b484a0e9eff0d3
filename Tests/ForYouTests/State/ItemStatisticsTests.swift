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

    /// The ring holds the retention's hours plus a day ahead: a newer hour takes over the slot of an hour
    /// that left it, an event older than the ring counts in the totals only, and an event dated ahead of
    /// the clock (validation allows a day) never takes the slot of an hour still in the window.
    @Test func hoursBeyondTheRingAreDroppedAndFutureEventsEraseNothing() async throws {
        var ring = ItemStatistics(retentionHours: 3, futureHours: 1)  // four slots
        ring.reserve(items: 1)
        let view = ItemCounts(of: .view, watchMilliseconds: 1_000, durationMilliseconds: 10_000)
        for hour in Int64(0)..<4 { ring.record(view, item: 0, region: nil, at: hour * Timestamp.hour, sign: 1) }
        #expect(ring.entryCount == 4)
        ring.record(view, item: 0, region: nil, at: 4 * Timestamp.hour, sign: 1)  // takes hour 0's slot
        #expect(ring.entryCount == 4 && ring.buckets(of: 0, sinceHour: 0).map(\.hour) == [1, 2, 3, 4])
        ring.record(view, item: 0, region: nil, at: 0, sign: 1)  // hour 0 left the ring: totals only
        #expect(ring.totals[0].views == 6 && ring.buckets(of: 0, sinceHour: 0).map(\.counts.views) == [1, 1, 1, 1])
        ring.dropHours(before: 3)  // the engine's clock moved on: hours 1 and 2 left the window
        #expect(ring.entryCount == 2 && ring.buckets(of: 0, sinceHour: 0).map(\.hour) == [3, 4])
        ring.record(view, item: 0, region: nil, at: Timestamp.hour, sign: 1)  // before the window: totals only
        #expect(ring.entryCount == 2 && ring.totals[0].views == 7)

        // Through the engine: the window is counted from the server's clock, and an event dated 23 hours
        // ahead leaves the hours of the window alone.
        let clock = ManualClock()
        clock.advance(byMilliseconds: 4 * Timestamp.hour)
        let engine = try await engine(clock: clock, retentionHours: 3)
        let event = { (id: String, minutes: Int) in EventInput(id: id, user: "u", item: "v1", type: "view", at: Self.at(minutes), watchMilliseconds: 1_000) }
        _ = try await engine.ingest([event("h0", 0), event("h1", 60), event("h2", 120), event("h3", 180), event("h4", 240)])
        #expect(try engine.itemStatistics(of: "v1", hours: 3).buckets.map(\.counts.views) == [1, 1, 1])  // hours 2, 3 and 4
        _ = try await engine.ingest([event("ahead", (4 + 23) * 60)])
        let after = try engine.itemStatistics(of: "v1", hours: 3)
        #expect(after.buckets.map(\.counts.views) == [1, 1, 1, 1])  // hours 2, 3, 4 and the one ahead
        #expect(after.total.views == 6)
    }

    /// Before any event: zero counts, no buckets, and nothing held; taking out an event never folded in
    /// (a sign −1 before any +1) changes nothing.
    @Test func anItemWithoutEventsHasZeroCounts() async throws {
        let engine = try await engine()
        let report = try engine.itemStatistics(of: "v1")
        #expect(report.total == Counts(views: 0, likes: 0, shares: 0, meanCompletion: nil) && report.buckets.isEmpty)
        #expect(engine.statistics.itemStatisticsEntries == 0)
        var statistics = ItemStatistics(retentionHours: 2)  // (a sign −1 before any event)
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

    /// An hour's table (open addressing, chains per region) agrees with a dictionary of dictionaries
    /// through additions and subtractions over 20,000 items (many grows), regions old and new.
    @Test func anHourTableAgreesWithDictionariesThroughAddsAndSubtractions() {
        var random = SplitMix64(seed: 5)
        var table = ItemStatistics.HourTable(hour: 1)
        var expected: [Int32: [Int32: ItemCounts]] = [:]
        for step in 0..<60_000 {
            let item = Int32(random.next() % 20_000)
            let region = Int32(random.next() % 4)
            let delta = ItemCounts(of: random.next() % 2 == 0 ? .view : .like, watchMilliseconds: 5_000, durationMilliseconds: 10_000)
            // One step in five takes away; a subtraction from an absent item or region adds nothing.
            let sign: Int32 = step % 5 == 4 ? -1 : 1
            table.add(delta, item: item, region: region, sign: sign)
            if sign > 0 {
                expected[item, default: [:]][region, default: ItemCounts()].add(delta, sign: 1)
            } else if expected[item]?[region] != nil {
                expected[item]![region]!.add(delta, sign: -1)
            }
        }
        #expect(table.itemCount == expected.count)
        for item in Int32(0)..<20_000 {
            let counts = Dictionary(uniqueKeysWithValues: table.counts(of: item).map { ($0.region, $0.counts) })
            #expect(counts == (expected[item] ?? [:]), "item \(item)")
        }
    }
}
