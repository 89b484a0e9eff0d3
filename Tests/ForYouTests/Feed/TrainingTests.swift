// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting
import Testing

struct TrainingTests {
    func engineWithWorld(store: MemoryStore = MemoryStore()) async throws -> (Recommender, DemoWorld, ManualClock) {
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 4, size: .small, now: clock.now())
        let engine = try await Recommender.open(store: store, clock: clock)
        _ = try await engine.upsertItems(world.items)
        for start in stride(from: 0, to: world.events.count, by: 1000) {
            _ = try await engine.ingest(Array(world.events[start..<min(start + 1000, world.events.count)]))
        }
        return (engine, world, clock)
    }

    @Test func trainingNeedsPositiveEvents() async throws {
        let engine = try await Recommender.open(store: MemoryStore(), clock: ManualClock())
        let error = await #expect(throws: ForYouError.self) { try await engine.train() }
        #expect(error?.code == .conflict)
        #expect(engine.currentModel == nil)
    }

    @Test func aTrainedModelServesFeedsAndComesBackWhenTheEngineReopens() async throws {
        let store = MemoryStore()
        let (engine, world, clock) = try await engineWithWorld(store: store)
        #expect(try await engine.feed(for: world.users[0].id, count: 10).modelVersion == Recommender.modelVersion)
        let info = try await engine.train()
        #expect(info.version.hasPrefix("blend-"))
        #expect(info.users > 50 && info.items == world.items.count)
        // The chosen hyperparameters' score on the inner validation split is part of the provenance.
        let validation = try #require(info.provenance?.validationNDCGAt10)
        #expect(validation > 0 && validation < 1)
        #expect((10...info.users).contains(info.provenance?.validationUsers ?? 0))

        var sources = Set<String>()
        for user in world.users.prefix(20) {
            let feed = try await engine.feed(for: user.id, count: 10)
            #expect(feed.modelVersion == info.version)
            sources.formUnion(feed.entries.map(\.reason.source))
        }
        #expect(sources.contains("learned_model"))

        let reopened = try await Recommender.open(store: store, clock: clock)
        #expect(reopened.currentModel == info)
        #expect(reopened.modelLoadProblem == nil)
    }

    /// A model's weights were computed from every user's events: erasing one retires it.
    @Test func erasingAUserRetiresTrainedModels() async throws {
        let store = MemoryStore()
        let (engine, world, _) = try await engineWithWorld(store: store)
        try await engine.train()
        _ = try await engine.erase(user: "never-seen")  // nothing erased: the model stays
        #expect(engine.currentModel != nil)
        _ = try await engine.erase(user: world.users[0].id)
        #expect(engine.currentModel == nil)
        #expect(try await store.savedModels().isEmpty)
        #expect(try await engine.feed(for: world.users[1].id, count: 5).modelVersion == Recommender.modelVersion)
    }

    /// Feeds keep being served while a model trains, and each uses either the old or the new model.
    @Test func aNewModelIsSwappedInWithoutDroppingFeedRequests() async throws {
        let (engine, world, _) = try await engineWithWorld()
        let before = try await engine.train().version
        let versions = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                var seen: [String] = []
                for round in 0..<60 {
                    seen.append(try await engine.feed(for: world.users[round % world.users.count].id, count: 5).modelVersion)
                }
                return seen
            }
            group.addTask {
                // New events change the weights, so the retrained model has a new version.
                _ = try await engine.ingest((0..<40).map {
                    EventInput(id: "extra-\($0)", user: "fresh-\($0 % 7)", item: "v\($0 * 3 % 400)", type: "share")
                })
                return [try await engine.train().version]
            }
            var all: [String] = []
            for try await part in group { all += part }
            return all
        }
        let after = versions.last!
        #expect(after != before)
        #expect(versions.dropLast().allSatisfy { $0 == before || $0 == after })
        #expect(try await engine.feed(for: world.users[0].id, count: 5).modelVersion == after)
    }
}
