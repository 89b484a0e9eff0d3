// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Synchronization
import Testing

/// A trained model over a large catalogue retrieves each user's best items from an HNSW index of its
/// item factors; tested here on a small world with the threshold set to 0.
struct IndexedRetrievalTests {
    /// Small, fast, fixed hyperparameters (no search).
    static let hyperparameters: BlendHyperparameters = {
        var als = ALSModel.Configuration()
        als.factors = 16
        als.iterations = 6
        return BlendHyperparameters(BlendModel(transitions: .init(), als: als, transitionsWeight: 0.5))
    }()

    static func indexedConfiguration() -> Recommender.Configuration {
        var configuration = Recommender.Configuration()
        configuration.feed.indexedRetrievalMinimumItems = 0
        return configuration
    }

    /// - Parameter quietItems: items catalogued before the training that no event names.
    func trainedEngine(
        _ configuration: Recommender.Configuration = indexedConfiguration(), quietItems: [ItemInput] = []
    ) async throws -> (Recommender, DemoWorld, ManualClock) {
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 4, size: .small, now: clock.now())
        let engine = try await Recommender.open(store: MemoryStore(), configuration: configuration, clock: clock)
        _ = try await engine.upsertItems(world.items + quietItems)
        for start in stride(from: 0, to: world.events.count, by: 1000) {
            _ = try await engine.ingest(Array(world.events[start..<min(start + 1000, world.events.count)]))
        }
        let info = try await engine.train(hyperparameters: Self.hyperparameters)
        #expect(info.provenance?.hyperparametersFrom == "operator")
        return (engine, world, clock)
    }

    /// The index's top 10 for each user's history against the blend scoring every item: mean
    /// recall@10 at least 0.95, and the scores of the items both return agree.
    @Test func indexedTopItemsMatchScoringEveryItem() async throws {
        let (engine, world, _) = try await trainedEngine()
        try expectIndexedTopItemsMatchScoringEveryItem(engine, world)
    }

    /// Erasure unlearns the user and keeps the index, updated to the refitted items' vectors: the new
    /// model serves from the same index at once, and it still agrees with scoring every item.
    @Test func anUnlearnedModelKeepsTheIndexUpToDate() async throws {
        let (engine, world, _) = try await trainedEngine()
        let before = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(before.retrieval)
        let erasure = try await engine.eraseUser(world.users[0].id)
        #expect(erasure.model.outcome == .unlearned && erasure.model.refittedItems > 0)
        let after = try #require(engine.learned.withLock { $0 })
        #expect(after !== before && after.retrieval === retrieval)
        try expectIndexedTopItemsMatchScoringEveryItem(engine, world)
    }

    func expectIndexedTopItemsMatchScoringEveryItem(_ engine: Recommender, _ world: DemoWorld) throws {
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(serving.retrieval)
        let model = serving.learned.model
        var recall = 0.0
        var users = 0
        for user in world.users.prefix(60) {
            let history = engine.state.withLock { $0.recentPositiveItems(of: UserID(trusted: user.id)) }.compactMap { serving.index[$0] }
            guard !history.isEmpty else { continue }
            let exact = model.recommend(history: history, count: 10, itemCount: serving.learned.items.count)
            let indexed = retrieval.recommend(model, history: history, userVector: model.als.userVector(history: history), excluded: IDSet(), count: 10)
            let exactScores = Dictionary(uniqueKeysWithValues: exact.map { ($0.item, $0.score) })
            for (item, score) in indexed {
                // The dense blend adds a popularity tie-break of at most 1e-6 per user.
                if let expected = exactScores[item] { #expect(abs(expected - score) < 1e-3) }
            }
            recall += Double(Set(exact.map(\.item)).intersection(indexed.map(\.item)).count) / Double(exact.count)
            users += 1
        }
        #expect(users >= 30)
        #expect(recall / Double(users) >= 0.95)
    }

    /// A feed folds the user's vector in once; another feed with the same history reuses it; a like
    /// changes the history, so the next feed folds it in again and ranks from the liked item.
    @Test func aLikeFoldsTheUserVectorInBeforeTheNextFeed() async throws {
        let (engine, world, _) = try await trainedEngine()
        let user = try #require(world.users.first { u in engine.state.withLock { !$0.recentPositiveItems(of: UserID(trusted: u.id)).isEmpty } })
        _ = try await engine.feed(for: user.id, count: 10)
        #expect(engine.statistics.userVectorFoldIns == 1)
        _ = try await engine.feed(for: user.id, count: 10)
        #expect(engine.statistics.userVectorFoldIns == 1)
        let liked = try #require(try await engine.feed(for: user.id, count: 10).entries.first?.item)
        _ = try await engine.ingest([EventInput(id: "like-1", user: user.id, item: liked.rawValue, type: "like")])
        let feed = try await engine.feed(for: user.id, count: 10)
        #expect(engine.statistics.userVectorFoldIns == 2)
        #expect(feed.entries.contains { $0.reason == .learned(after: liked) })
        #expect(!feed.entries.contains { $0.item == liked })
    }

    /// Erasing a user or resetting their profile drops their vector.
    @Test func erasureAndResetDropTheUsersVector() async throws {
        let (engine, world, _) = try await trainedEngine()
        let active = world.users.filter { u in engine.state.withLock { !$0.recentPositiveItems(of: UserID(trusted: u.id)).isEmpty } }
        for user in active.prefix(2) { _ = try await engine.feed(for: user.id, count: 5) }
        #expect(engine.statistics.userVectorsHeld == 2)
        _ = try await engine.erase(user: active[0].id)
        #expect(engine.statistics.userVectorsHeld == 1)
        try await engine.resetProfile(of: active[1].id)
        #expect(engine.statistics.userVectorsHeld == 0)
    }

    /// An item upserted after training is indexed at once under the mean vector of its creator's
    /// known items, found by a search, and mapped back to its id; a feed starts the indexing.
    @Test func newItemsAreIndexedUnderTheirCreatorsMeanVector() async throws {
        let (engine, world, _) = try await trainedEngine()
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(serving.retrieval)
        let creator = try #require(world.items.first?.creator)
        let known = world.items.filter { $0.creator == creator }.compactMap { serving.index[ItemID(trusted: $0.id!)] }
        #expect(!known.isEmpty)
        _ = try await engine.upsertItems([ItemInput(id: "fresh-1", creator: creator, tags: ["brand-new-topic"], durationMilliseconds: 20_000)])
        let user = try #require(world.users.first { u in engine.state.withLock { !$0.recentPositiveItems(of: UserID(trusted: u.id)).isEmpty } })
        _ = try await engine.feed(for: user.id, count: 10)
        let catalogue = engine.state.withLock { $0.catalog.count }
        for _ in 0..<200 where retrieval.coveredCount < catalogue { try await Task.sleep(for: .milliseconds(10)) }
        #expect(retrieval.coveredCount == catalogue)

        let label = try #require(retrieval.label(of: ItemID(trusted: "fresh-1"), modelIndex: serving.index))
        #expect(Int(label) == serving.learned.items.count)
        #expect(retrieval.item(ofLabel: label, modelItems: serving.learned.items) == ItemID(trusted: "fresh-1"))
        let factors = serving.learned.model.als.itemFactors
        let mean = (0..<factors.columns).map { d in known.map { factors[Int($0), d] }.reduce(0, +) / Float(known.count) }
        // Its stored vector is that mean: its inner product with the mean is |mean|².
        let all = try retrieval.index.snapshot.exactSearch(mean, count: retrieval.index.snapshot.count)
        let score = try #require(all.first { $0.id == label }?.score)
        #expect(abs(score - mean.map { $0 * $0 }.reduce(0, +)) < 1e-4)
        // And the graph reaches it: a search deep enough to hold it finds it as exact search ranks it.
        let rank = try #require(all.firstIndex { $0.id == label })
        #expect(try retrieval.index.search(mean, count: rank + 10).contains { $0.id == label })
        // An item of a creator and tags the model has never seen gets no vector.
        _ = try await engine.upsertItems([ItemInput(id: "fresh-2", creator: "nobody-knows", tags: ["nothing-known"], durationMilliseconds: 20_000)])
        engine.coverNewItems(retrieval, serving, upTo: catalogue + 1)
        #expect(retrieval.label(of: ItemID(trusted: "fresh-2"), modelIndex: serving.index) == nil)
        #expect(retrieval.coveredCount == catalogue + 1)
    }

    /// Every user's ALS vector, folded in from their latest positive items the model knows.
    func userVectors(_ engine: Recommender, _ serving: ServingModel, _ world: DemoWorld) -> [(id: String, vector: [Float])] {
        world.users.compactMap { user in
            let history = engine.state.withLock { $0.recentPositiveItems(of: UserID(trusted: user.id)) }.compactMap { serving.index[$0] }
            return history.isEmpty ? nil : (user.id, serving.learned.model.als.userVector(history: history))
        }
    }

    func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    func cosine(_ a: [Float], _ b: [Float]) -> Float { dot(a, b) / max(1e-9, (dot(a, a) * dot(b, b)).squareRoot()) }

    /// Waits (at most 3 s) for the background refit to reach `count` collaborative vectors.
    func waitForFreshVectors(_ engine: Recommender, count: Int) async throws {
        for _ in 0..<300 where engine.statistics.freshItemVectors != count { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// An item the model does not know, of an unknown creator and topic (so no metadata vector), earns a
    /// collaborative vector from the users who like it: after the eight users whose taste is closest to a
    /// target user's like it, it is among the target's learned candidates, and it scores higher for the
    /// target than for the user of the most opposite taste.
    @Test func aNewItemEarnsACollaborativeVectorFromWhoLikesIt() async throws {
        let (engine, world, _) = try await trainedEngine()
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(serving.retrieval)
        let vectors = userVectors(engine, serving, world)
        let target = try #require(vectors.first)
        let ranked = vectors.dropFirst().sorted { cosine($0.vector, target.vector) > cosine($1.vector, target.vector) }
        let opposite = try #require(ranked.last)
        let fresh = ItemID(trusted: "fresh-x")
        _ = try await engine.upsertItems([ItemInput(id: "fresh-x", creator: "nobody-knows", tags: ["nothing-known"], durationMilliseconds: 20_000)])
        #expect(try !engine.learnedCandidates(for: target.id, count: 50).contains { $0.item == fresh })
        let likes = ranked.prefix(8).enumerated().map { EventInput(id: "fx-\($0.offset)", user: $0.element.id, item: "fresh-x", type: "like") }
        #expect(try await engine.ingest(likes).accepted == 8)
        try await waitForFreshVectors(engine, count: 1)
        #expect(engine.statistics.freshItemVectors == 1 && engine.statistics.freshItemRefits >= 1)

        let candidates = try engine.learnedCandidates(for: target.id, count: 50)
        #expect(candidates.contains { $0.item == fresh })
        let snapshot = retrieval.freshVectors.withLock { $0 }
        #expect(snapshot.labels == [try #require(retrieval.label(of: fresh, modelIndex: serving.index))])
        #expect(dot(target.vector, snapshot.vectors) > dot(opposite.vector, snapshot.vectors))
        // An item the model places earns none: its own factors place it.
        let known = try #require(serving.learned.items.first { serving.placesByFactors($0) })
        _ = try await engine.ingest([EventInput(id: "known-like", user: target.id, item: known.rawValue, type: "like")])
        try await Task.sleep(for: .milliseconds(50))
        #expect(engine.statistics.freshItemVectors == 1)
    }

    /// An item catalogued before the training but never engaged with is in the model with factors solved
    /// from nothing; its first likes give it a collaborative vector under its model index, which then
    /// scores it instead of those factors.
    @Test func anItemNoTrainingHistoryHeldEarnsAVectorToo() async throws {
        let quiet = ItemInput(id: "quiet-1", creator: "nobody-knows", tags: ["nothing-known"], durationMilliseconds: 20_000)
        let (engine, world, _) = try await trainedEngine(quietItems: [quiet])
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(serving.retrieval)
        let row = try #require(serving.index[ItemID(trusted: "quiet-1")])
        #expect(!serving.placesByFactors(ItemID(trusted: "quiet-1")))
        #expect(serving.placesByFactors(try #require(serving.learned.items.first { serving.placesByFactors($0) })))
        let vectors = userVectors(engine, serving, world)
        let target = try #require(vectors.first)
        let ranked = vectors.dropFirst().sorted { cosine($0.vector, target.vector) > cosine($1.vector, target.vector) }
        _ = try await engine.ingest(ranked.prefix(8).enumerated().map { EventInput(id: "q-\($0.offset)", user: $0.element.id, item: "quiet-1", type: "like") })
        try await waitForFreshVectors(engine, count: 1)
        #expect(retrieval.freshVectors.withLock { $0.labels } == [row])
        let found = try #require(try engine.learnedCandidates(for: target.id, count: 50).first { $0.item == ItemID(trusted: "quiet-1") })
        #expect(found.score > 0)
    }

    /// An item liked before the catalogue was covered gets its label from the refit; covering still puts
    /// its metadata vector in the index under that label, for when the collaborative vector goes.
    @Test func aLabelGivenByARefitStillGetsTheMetadataVector() async throws {
        let (engine, world, _) = try await trainedEngine()
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(serving.retrieval)
        let creator = try #require(world.items.first?.creator)
        _ = try await engine.upsertItems([ItemInput(id: "early", creator: creator, tags: ["t"], durationMilliseconds: 20_000)])
        let users = userVectors(engine, serving, world).prefix(3).map(\.id)
        _ = try await engine.ingest(users.map { EventInput(id: "early-\($0)", user: $0, item: "early", type: "like") })
        try await waitForFreshVectors(engine, count: 1)
        let label = try #require(retrieval.label(of: ItemID(trusted: "early"), modelIndex: serving.index))
        #expect(!retrieval.newItems.withLock { $0.indexed.contains(label) })
        engine.coverNewItems(retrieval, serving, upTo: engine.state.withLock { $0.catalog.count })
        #expect(retrieval.newItems.withLock { $0.indexed.contains(label) })
        #expect(try retrieval.index.snapshot.exactSearch([Float](repeating: 1, count: 16), count: retrieval.index.snapshot.count).contains { $0.id == label })
    }

    /// Erasing the users who liked a new item takes its collaborative vector away with them.
    @Test func forgettingEveryEngagerTakesTheVectorAway() async throws {
        let (engine, world, _) = try await trainedEngine()
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try #require(serving.retrieval)
        let engagers = userVectors(engine, serving, world).prefix(3).map(\.id)
        _ = try await engine.upsertItems([ItemInput(id: "fresh-y", creator: "nobody-knows", tags: ["nothing-known"], durationMilliseconds: 20_000)])
        _ = try await engine.ingest(engagers.map { EventInput(id: "fy-\($0)", user: $0, item: "fresh-y", type: "like") })
        try await waitForFreshVectors(engine, count: 1)
        #expect(engine.statistics.freshItemVectors == 1)
        for user in engagers where retrieval.forget(UserID(trusted: user)) { await engine.refitFreshItems(retrieval, serving) }
        try await waitForFreshVectors(engine, count: 0)
        #expect(engine.statistics.freshItemVectors == 0)
        #expect(retrieval.fresh.withLock { $0.engagers.isEmpty && $0.pending.isEmpty })
    }

    /// The bookkeeping: the latest engagers per item, each once; the most recently refitted vectors
    /// within the limit (an evicted item forgets its engagers); a new model inherits the engagers of the
    /// items it does not place either.
    @Test func freshEngagementKeepsTheLatestEngagersAndVectors() async throws {
        let (engine, _, _) = try await trainedEngine()
        let serving = try #require(engine.learned.withLock { $0 })
        let retrieval = try LearnedRetrieval(serving.learned.model)
        let (a, b) = (ItemID(trusted: "new-a"), ItemID(trusted: "new-b"))
        let (u1, u2, u3) = (UserID(trusted: "u1"), UserID(trusted: "u2"), UserID(trusted: "u3"))
        #expect(retrieval.noteEngagements([(a, u1), (a, u2), (a, u1), (a, u3), (b, u2)], engagersPerItem: 2))
        // A task is now claimed: the next note does not start another.
        #expect(!retrieval.noteEngagements([(b, u3)], engagersPerItem: 2))
        let batch = try #require(retrieval.takePending())
        let byItem = Dictionary(uniqueKeysWithValues: batch.map { ($0.item, $0.users) })
        #expect(byItem[a] == [u1, u3] && byItem[b] == [u2, u3])
        #expect(retrieval.takePending() == nil)  // and the task ends

        let k = serving.learned.model.als.configuration.factors
        retrieval.publishFresh([(a, [Float](repeating: 1, count: k))], modelIndex: serving.index, limit: 1)
        retrieval.publishFresh([(b, [Float](repeating: 2, count: k))], modelIndex: serving.index, limit: 1)
        let snapshot = retrieval.freshVectors.withLock { $0 }
        #expect(snapshot.count == 1 && snapshot.vectors.first == 2)
        #expect(snapshot.labels == [try #require(retrieval.label(of: b, modelIndex: serving.index))])
        #expect(snapshot.search([Float](repeating: 1, count: k), count: 5, skip: IDSet()).map(\.id) == snapshot.labels)
        #expect(snapshot.search([Float](repeating: 1, count: k), count: 5, skip: IDSet(snapshot.labels)).isEmpty)

        // The evicted item forgot its engagers too: what is held stays bounded.
        #expect(retrieval.fresh.withLock { $0.engagers[a] == nil && $0.engagers[b] == [u2, u3] })

        _ = retrieval.noteEngagements([(a, u1)], engagersPerItem: 2)
        let successor = try LearnedRetrieval(serving.learned.model)
        #expect(successor.inherit(from: retrieval, keeping: { $0 != a }))
        #expect(successor.fresh.withLock { Array($0.engagers.keys) } == [b])
    }

    /// The public comparison: the index's and exact scoring's best unseen items mostly agree, neither
    /// holds a seen item, and a count out of range is refused naming the field.
    @Test func learnedCandidatesFromTheIndexAgreeWithExactScoring() async throws {
        let (engine, world, clock) = try await trainedEngine()
        var recall = 0.0
        var users = 0
        for user in world.users.prefix(40) {
            let exact = try engine.learnedCandidates(for: user.id, count: 10, exact: true)
            guard exact.count == 10 else { continue }
            _ = try await engine.feed(for: user.id, count: 10)  // marks ten more items seen
            let indexed = try engine.learnedCandidates(for: user.id, count: 10)
            let exactAfter = try engine.learnedCandidates(for: user.id, count: 10, exact: true)
            let seen = Set(engine.state.withLock { $0.seenItems(of: UserID(trusted: user.id), now: clock.now().milliseconds) })
            #expect(indexed.allSatisfy { !seen.contains($0.item) } && exactAfter.allSatisfy { !seen.contains($0.item) })
            recall += Double(Set(exactAfter.map(\.item)).intersection(indexed.map(\.item)).count) / 10
            users += 1
        }
        #expect(users >= 20)
        #expect(recall / Double(users) >= 0.9)
        #expect(throws: ForYouError.self) { try engine.learnedCandidates(for: world.users[0].id, count: 0) }
        #expect(try engine.learnedCandidates(for: "nobody-here").isEmpty)
    }

    /// A model loaded rather than trained (a restart) gets its index from the first feed, in the
    /// background: that feed scores every item instead of waiting; later feeds use the index.
    @Test func aLoadedModelBuildsItsIndexInTheBackground() async throws {
        let store = MemoryStore()
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 4, size: .small, now: clock.now())
        let first = try await Recommender.open(store: store, configuration: Self.indexedConfiguration(), clock: clock)
        _ = try await first.upsertItems(world.items)
        for start in stride(from: 0, to: world.events.count, by: 1000) {
            _ = try await first.ingest(Array(world.events[start..<min(start + 1000, world.events.count)]))
        }
        _ = try await first.train(hyperparameters: Self.hyperparameters)
        #expect(first.learned.withLock { $0?.retrieval } != nil)
        let reopened = try await Recommender.open(store: store, configuration: Self.indexedConfiguration(), clock: clock)
        let serving = try #require(reopened.learned.withLock { $0 })
        #expect(serving.wantsIndex && serving.retrieval == nil)
        let user = try #require(world.users.first { u in reopened.state.withLock { !$0.recentPositiveItems(of: UserID(trusted: u.id)).isEmpty } })
        _ = try await reopened.feed(for: user.id, count: 10)
        for _ in 0..<300 where serving.retrieval == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(serving.retrieval != nil)
        _ = try await reopened.feed(for: user.id, count: 10)
        #expect(reopened.statistics.userVectorFoldIns == 1)
    }

    /// Hyperparameters out of range are refused before anything is trained, naming the field.
    @Test func trainingRefusesHyperparametersOutOfRange() async throws {
        let engine = try await Recommender.open(store: MemoryStore(), clock: ManualClock())
        var bad = Self.hyperparameters
        bad.alsFactors = 0
        let error = await #expect(throws: ForYouError.self) { try await engine.train(hyperparameters: bad) }
        #expect(error?.code == .invalidArgument && error?.message.contains("als_factors") == true)
    }

    /// Below the threshold no index is built and every item is scored, as before.
    @Test func smallCataloguesScoreEveryItem() async throws {
        let (engine, world, _) = try await trainedEngine(Recommender.Configuration())
        #expect(engine.learned.withLock { $0?.retrieval } == nil)
        _ = try await engine.feed(for: world.users[0].id, count: 10)
        #expect(engine.statistics.userVectorFoldIns == 0)
    }
}

struct UserVectorCacheTests {
    /// Vectors unused for the expiry are dropped when the cache has doubled; recently used ones stay.
    @Test func unusedVectorsExpire() {
        var cache = UserVectorCache()
        for n in 0..<1_023 { cache.store([1], for: UserID(trusted: "old\(n)"), modelVersion: "m", history: [1], now: 0, expiry: 100, readAt: 0) }
        #expect(cache.vector(for: UserID(trusted: "old0"), modelVersion: "m", history: [1], now: 150) == [1])
        #expect(cache.vector(for: UserID(trusted: "old1"), modelVersion: "m", history: [2], now: 150) == nil)
        #expect(cache.vector(for: UserID(trusted: "old1"), modelVersion: "other", history: [1], now: 150) == nil)
        cache.store([2], for: UserID(trusted: "new"), modelVersion: "m", history: [1], now: 200, expiry: 100, readAt: cache.generation)
        // A vector folded in from a history read before a removal is not stored.
        let generation = cache.generation
        cache.remove(UserID(trusted: "gone"))
        cache.store([3], for: UserID(trusted: "gone"), modelVersion: "m", history: [1], now: 200, expiry: 100, readAt: generation)
        #expect(cache.vector(for: UserID(trusted: "gone"), modelVersion: "m", history: [1], now: 200) == nil)
        // old0 was used at 150, 50 ms before the sweep: it stays.
        #expect(cache.entries.count == 2)
        #expect(cache.expired == 1_022)
        #expect(cache.vector(for: UserID(trusted: "new"), modelVersion: "m", history: [1], now: 210) == [2])
    }
}
