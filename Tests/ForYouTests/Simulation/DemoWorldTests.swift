// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Testing

struct DemoWorldTests {
    @Test func theSameSeedGivesTheSameWorld() {
        let now = Timestamp(rfc3339: "2026-11-26T08:00:00Z")!
        let a = DemoWorld.generate(seed: 3, size: .small, now: now)
        let b = DemoWorld.generate(seed: 3, size: .small, now: now)
        #expect(a.events.map(\.id) == b.events.map(\.id))
        #expect(a.events.map(\.watchMilliseconds) == b.events.map(\.watchMilliseconds))
        #expect(a.items.map(\.durationMilliseconds) == b.items.map(\.durationMilliseconds))
    }

    @Test func durationsFollowTheKuaiRandQuantiles() {
        #expect(DemoWorld.duration(at: 0.5) == 81_100)
        #expect(DemoWorld.duration(at: 0.9) == 237_666)
        let samples = (0..<1001).map { DemoWorld.duration(at: Double($0) / 1000) }
        #expect(samples == samples.sorted())
    }

    @Test func everyGeneratedRecordPassesValidation() async throws {
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 5, size: .small, now: clock.now())
        let engine = try await Recommender.open(store: MemoryStore(), clock: clock)
        _ = try await engine.upsertItems(world.items)
        var accepted = 0
        for start in stride(from: 0, to: world.events.count, by: 1000) {
            let result = try await engine.ingest(Array(world.events[start..<min(start + 1000, world.events.count)]))
            #expect(result.rejected.isEmpty, "\(result.rejected.prefix(3))")
            accepted += result.accepted
        }
        #expect(accepted == world.events.count)
        #expect(world.events.count > 3_000)
    }

    /// Quality floor: feeds of simulated users lean toward their hidden favourite tags.
    @Test func feedsLeanTowardHiddenInterests() async throws {
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 9, size: .small, now: clock.now())
        let engine = try await Recommender.open(store: MemoryStore(), clock: clock)
        _ = try await engine.upsertItems(world.items)
        for start in stride(from: 0, to: world.events.count, by: 1000) {
            _ = try await engine.ingest(Array(world.events[start..<min(start + 1000, world.events.count)]))
        }
        let tagsOfItem = Dictionary(uniqueKeysWithValues: world.items.map { ($0.id!, Set($0.tags ?? [])) })
        var hits = 0
        var baseline = 0.0
        var shown = 0
        for user in world.users {
            let favourites = Set(user.favouriteTags)
            baseline += Double(world.items.filter { !tagsOfItem[$0.id!]!.isDisjoint(with: favourites) }.count) / Double(world.items.count)
            for entry in try await engine.feed(for: user.id, count: 10).entries {
                shown += 1
                if !tagsOfItem[entry.item.rawValue]!.isDisjoint(with: favourites) { hits += 1 }
            }
        }
        let precision = Double(hits) / Double(shown)
        baseline /= Double(world.users.count)
        print("hidden-interest precision@10 = \(precision), catalogue base rate = \(baseline)")
        #expect(precision >= 0.5)
        #expect(precision >= 1.5 * baseline)
    }
}
