// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Testing
import Synchronization

struct TrainingTests {
    /// A world for unlearning tests: small enough that each erasure's refits are quick in a debug build.
    static let tiny = DemoWorld.Size(creators: 15, items: 150, users: 40, sessionsPerUser: 2)

    func engineWithWorld(store: MemoryStore = MemoryStore(), size: DemoWorld.Size = .small) async throws -> (Recommender, DemoWorld, ManualClock) {
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 4, size: size, now: clock.now())
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

    /// Erasing a user unlearns them: the model keeps serving under a new version, its counts and
    /// closed-form parts equal a model trained on the log without the user, and it is what a restart loads.
    @Test func erasingAUserUnlearnsTheServingModel() async throws {
        let store = MemoryStore()
        let (engine, world, clock) = try await engineWithWorld(store: store, size: Self.tiny)
        let trained = try await engine.train()
        #expect(trained.description.hasPrefix("LearnedBlend"), "the small world trains the re-ranking stage")
        let unknown = try await engine.eraseUser("never-seen")  // nothing erased: the model stays
        #expect(unknown.events == 0 && unknown.model.outcome == .unaffected && unknown.model.version == trained.version)
        #expect(engine.currentModel == trained)

        let erased = world.users[0].id
        let erasure = try await engine.eraseUser(erased)
        #expect(erasure.events > 0)
        #expect(erasure.model.outcome == .unlearned && erasure.model.versionBefore == trained.version)
        #expect(erasure.model.unlearnedUsersSinceTraining == 1 && erasure.model.refittedItems > 0)
        let after = try #require(engine.currentModel)
        #expect(after.version == erasure.model.version && after.version != trained.version)
        #expect(after.users == trained.users - 1 && after.events < trained.events)
        #expect(after.provenance?.unlearnedUsers == 1 && after.provenance?.derivedFrom == trained.version)
        #expect(try await store.savedModels().count == 1)
        #expect(try await engine.feed(for: world.users[1].id, count: 5).modelVersion == after.version)

        // The ground truth: the same log without the user, trained from scratch.
        let truthEngine = try await Recommender.open(store: MemoryStore(), clock: clock)
        _ = try await truthEngine.upsertItems(world.items)
        let kept = world.events.filter { $0.user != erased }
        for start in stride(from: 0, to: kept.count, by: 1000) { _ = try await truthEngine.ingest(Array(kept[start..<min(start + 1000, kept.count)])) }
        _ = try await truthEngine.train()
        let unlearned = try #require(engine.learned.withLock { $0 }).learned.model
        let truth = try #require(truthEngine.learned.withLock { $0 }).learned.model
        UnlearningTests.expectEqual(unlearned.transitions, truth.transitions, "transitions")
        let (stage, truthStage) = (try #require(unlearned.reRanker), try #require(truth.reRanker))
        UnlearningTests.expectEqual(stage.successors, truthStage.successors, "successors")
        #expect(stage.popularity == truthStage.popularity)
        #expect(stage.slit.weights.storage == truthStage.slit.weights.storage)
        #expect(stage.ease.weights.storage == truthStage.ease.weights.storage)
        #expect(stage.rp3.neighbours.map { $0.map(\.weight) } == truthStage.rp3.neighbours.map { $0.map(\.weight) })

        // Audited, without the user; and what a restart serves.
        let unlearnedEntry = try #require(try await store.auditLines().compactMap { AuditChain.parse($0)?.entry }.last { $0.kind == "model.unlearned" })
        #expect(unlearnedEntry.subject == nil && unlearnedEntry.details["derived_from"] == trained.version)
        #expect(unlearnedEntry.details["model_version"] == after.version && unlearnedEntry.details["refitted_items"] == "\(erasure.model.refittedItems)")
        let reopened = try await Recommender.open(store: store, clock: clock)
        #expect(reopened.currentModel == after)
        #expect(reopened.transparencyReport().parameters.contains { $0.name == "model.unlearned_users" && $0.value == "1" })

        // A second erasure unlearns from the unlearned model; an erasure of the same user again changes nothing.
        let second = try await engine.eraseUser(world.users[2].id)
        #expect(second.model.outcome == .unlearned && second.model.versionBefore == after.version && second.model.unlearnedUsersSinceTraining == 2)
        #expect(engine.currentModel?.provenance?.derivedFrom == trained.version)
        let again = try await engine.eraseUser(erased)
        #expect(again.events == 0 && again.model.outcome == .unaffected && again.model.version == second.model.version)

        // Erasures that arrive together are unlearned together, each answering with a model without them.
        let together = try await withThrowingTaskGroup(of: Erasure.self) { group in
            for user in world.users[3..<8] { group.addTask { try await engine.eraseUser(user.id) } }
            var all: [Erasure] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(together.allSatisfy { $0.model.outcome == .unlearned && $0.model.usersInStep >= 1 })
        let final = try #require(engine.currentModel)
        #expect(final.provenance?.unlearnedUsers == 7 && final.users == trained.users - 7)
        #expect(together.contains { $0.model.version == final.version })
        #expect(together.map(\.model.usersInStep).reduce(0, +) >= 5)
    }

    /// The unlearning knob is checked, naming its key and range.
    @Test func unlearningEngagersPerItemIsValidated() {
        for bad in [0, 100_001] {
            var configuration = Recommender.Configuration()
            configuration.unlearningEngagersPerItem = bad
            let error = #expect(throws: ForYouError.self) { try configuration.validate() }
            #expect(error?.message.contains("unlearning_engagers_per_item must be in 1...100000") == true)
        }
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
