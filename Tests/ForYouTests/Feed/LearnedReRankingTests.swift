// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Synchronization
import Testing

/// The live engine trains the learned re-ranking stage (`BlendModel.reRanker`) on catalogues up to
/// `learnedReRankingMaximumItems`, stores it in model format 3 (with the stage), and its feeds' trained-model
/// candidates come from it, by scoring every item or from the index.
struct LearnedReRankingTests {
    func trainedEngine(_ configuration: Recommender.Configuration = Recommender.Configuration(), store: MemoryStore = MemoryStore()) async throws -> (
        Recommender, DemoWorld, ManualClock, Recommender.ModelInfo
    ) {
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 4, size: .small, now: clock.now())
        let engine = try await Recommender.open(store: store, configuration: configuration, clock: clock)
        _ = try await engine.upsertItems(world.items)
        for start in stride(from: 0, to: world.events.count, by: 1000) {
            _ = try await engine.ingest(Array(world.events[start..<min(start + 1000, world.events.count)]))
        }
        let info = try await engine.train()
        return (engine, world, clock, info)
    }

    func activeUsers(_ engine: Recommender, _ world: DemoWorld) -> [DemoWorld.User] {
        world.users.filter { u in engine.state.withLock { !$0.recentPositiveItems(of: UserID(trusted: u.id)).isEmpty } }
    }

    @Test func trainingAddsTheStageStoresItAndReopensTheSameModel() async throws {
        let store = MemoryStore()
        let (engine, _, clock, info) = try await trainedEngine(store: store)
        let serving = try #require(engine.learned.withLock { $0 })
        let stage = try #require(serving.learned.model.reRanker)
        #expect(info.hyperparameters.learnedReRanking == true)
        #expect(info.description.hasPrefix("LearnedBlend("))
        #expect(!stage.selection.isEmpty)
        // The stage's own held-out measure is the provenance's validation figure.
        #expect(info.provenance?.validationNDCGAt10 == stage.selection.blendedNDCGAt10)
        #expect((1...info.users).contains(info.provenance?.validationUsers ?? 0))
        // The stage shares the blend's transitions and ALS.
        #expect(stage.als.itemFactors.storage == serving.learned.model.als.itemFactors.storage)
        #expect(stage.transitions.values == serving.learned.model.transitions.values)

        // The transparency report names the stage's blend and its trees.
        let parameters = Dictionary(uniqueKeysWithValues: engine.transparencyReport().parameters.map { ($0.name, $0.value) })
        #expect(parameters["model.reranking_blend"] == LearnedBlend.describe(stage.linearWeights))
        #expect(parameters["model.reranking_trees"] == "\(stage.forest.treeCount)")
        let bytes = serving.learned.encoded()
        #expect(bytes[8] == 3)
        let loaded = try LearnedModel(encoded: bytes)
        #expect(loaded.encoded() == bytes)
        let reopened = try await Recommender.open(store: store, clock: clock)
        #expect(reopened.currentModel == info)
        #expect(reopened.modelLoadProblem == nil)
    }

    /// Scoring every item, a user's trained-model candidates are the stage's ranking minus what they
    /// have seen; never an item they saw, and they change the feed's learned entries.
    @Test func feedsTakeTheStagesCandidatesAndNeverSeenItems() async throws {
        let (engine, world, _, _) = try await trainedEngine()
        let serving = try #require(engine.learned.withLock { $0 })
        let stage = try #require(serving.learned.model.reRanker)
        var checked = 0
        for user in activeUsers(engine, world).prefix(20) {
            let id = UserID(trusted: user.id)
            let candidates = try engine.learnedCandidates(for: user.id, count: 10)
            let seen = Set(engine.state.withLock { $0.seenItems(of: id, now: engine.clock.now().milliseconds) })
            #expect(!candidates.contains { seen.contains($0.item) })
            let history = engine.state.withLock { $0.recentPositiveItems(of: id) }.compactMap { serving.index[$0] }
            let expected = stage.recommend(history: history, count: 10 + seen.count, itemCount: serving.learned.items.count)
                .map { serving.learned.items[Int($0.item)] }.filter { !seen.contains($0) }.prefix(10)
            #expect(candidates.map(\.item) == Array(expected))
            checked += 1
        }
        #expect(checked >= 10)
    }

    /// From the index (threshold 0), the candidates are the stage's ranking of the index's ALS hits and
    /// its other models' candidates: the same top items as scoring every item for nearly every user, and
    /// never a seen or excluded item.
    @Test func theIndexedPathRanksLikeScoringEveryItem() async throws {
        var configuration = Recommender.Configuration()
        configuration.feed.indexedRetrievalMinimumItems = 0
        let (engine, world, _, _) = try await trainedEngine(configuration)
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(serving.retrieval)
        let model = serving.learned.model
        var overlap = 0.0
        var users = 0
        for user in activeUsers(engine, world).prefix(40) {
            let history = engine.state.withLock { $0.recentPositiveItems(of: UserID(trusted: user.id)) }.compactMap { serving.index[$0] }
            let exact = model.recommend(history: history, count: 10, itemCount: serving.learned.items.count)
            var excluded = IDSet()
            excluded.insert(exact[0].item)
            let indexed = retrieval.recommend(model, history: history, userVector: model.als.userVector(history: history), excluded: excluded, count: 10)
            #expect(!indexed.contains { $0.item == exact[0].item || history.contains($0.item) })
            overlap += Double(Set(exact.dropFirst().map(\.item)).intersection(indexed.map(\.item)).count) / Double(exact.count - 1)
            users += 1
        }
        #expect(users >= 20)
        #expect(overlap / Double(users) >= 0.9)
    }

    @Test func theStageIsLeftOutAboveTheItemLimitAndWithTheOperatorsHyperparameters() async throws {
        var configuration = Recommender.Configuration()
        configuration.learnedReRankingMaximumItems = 0
        let (engine, _, _, info) = try await trainedEngine(configuration)
        #expect(engine.learned.withLock { $0 }?.learned.model.reRanker == nil)
        #expect(info.hyperparameters.learnedReRanking == nil)
        #expect(info.description.hasPrefix("Blend("))
        let bytes = try #require(engine.learned.withLock { $0 }).learned.encoded()
        #expect(bytes[8] == 3)
        #expect(try LearnedModel(encoded: bytes).model.reRanker == nil)
        var invalid = Recommender.Configuration()
        invalid.learnedReRankingMaximumItems = -1
        #expect(throws: ForYouError.self) { try invalid.validate() }
    }
}
