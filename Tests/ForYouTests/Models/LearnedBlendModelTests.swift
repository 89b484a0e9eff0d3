// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

struct LearnedBlendModelTests {
    /// A blend small enough to fit in a debug build in a second or two.
    static func configuration() -> LearnedBlendModel.Configuration {
        var configuration = LearnedBlendModel.Configuration()
        configuration.candidatesPerModel = 20
        configuration.heldOutPositions = 5
        configuration.ranker.maximumTrees = 20
        configuration.ranker.minimumRowsPerLeaf = 20
        configuration.als.iterations = 5
        return configuration
    }

    /// Users who walk one of a few item chains: the next item is set by the last one.
    static func chains(users: Int, seed: UInt64) -> [Interaction] {
        var random = SplitMix64(seed: seed)
        var interactions: [Interaction] = []
        for user in 0..<users {
            let chain = Int(random.next() % 5) * 20
            let start = Int(random.next() % 20)
            for step in 0..<(8 + Int(random.next() % 8)) {
                interactions.append(Interaction(user: "u\(user)", item: "\(chain + (start + step) % 20)", timestamp: Int64(step)))
            }
        }
        return interactions
    }

    /// Users who like one block of items and take them in random order, each followed by an item from
    /// anywhere (what a feed showed them, say): what the user did last says nothing of what comes next,
    /// the whole history says which block.
    static func blocks(users: Int, seed: UInt64) -> [Interaction] {
        var random = SplitMix64(seed: seed)
        var interactions: [Interaction] = []
        for user in 0..<users {
            let block = Int(random.next() % 6) * 15
            var items = Array(0..<15).map { block + $0 }
            items.shuffle(using: &random)
            var history: [Int] = []
            for item in items.prefix(6 + Int(random.next() % 6)) {
                history.append(item)
                history.append(90 + Int(random.next() % 90))
            }
            history.removeLast()  // the last item is one of the block
            for (step, item) in history.enumerated() { interactions.append(Interaction(user: "u\(user)", item: "\(item)", timestamp: Int64(step))) }
        }
        return interactions
    }

    @Test func followsTheChainOnOrderedHistoriesAndBeatsEveryOtherModel() async {
        let split = LeaveLastOutSplit(Self.chains(users: 200, seed: 1))
        let blend = await OfflineEvaluation.test(LearnedBlendModel(configuration: Self.configuration()), on: split)
        let ease = await OfflineEvaluation.test(EASEModel(), on: split)
        let popular = await OfflineEvaluation.test(PopularityModel(), on: split)
        #expect(blend.test.ndcgAt10 >= 0.9)
        #expect(blend.test.ndcgAt10 > ease.test.ndcgAt10)
        #expect(blend.test.ndcgAt10 >= 5 * popular.test.ndcgAt10)
        // The held-out users show the sequence models ahead of the order-free ones.
        let selection = blend.selection!
        let sequential = selection.componentNDCGAt10[LearnedBlend.Component.transitions.rawValue]
        #expect(sequential > selection.componentNDCGAt10[LearnedBlend.Component.als.rawValue])
    }

    @Test func leansOnTheOrderFreeModelsWhenOrderSaysNothing() async {
        let split = LeaveLastOutSplit(Self.blocks(users: 300, seed: 2))
        var configuration = Self.configuration()
        // λ suited to a log this small (block items have about 35 users, not MovieLens's 60 to 500).
        configuration.ease.regularization = 20
        let blend = await OfflineEvaluation.test(LearnedBlendModel(configuration: configuration), on: split)
        let dlae = await OfflineEvaluation.test(EASEModel(configuration: configuration.ease), on: split)
        let transitions = await OfflineEvaluation.test(ItemTransitionModel(), on: split)
        let popular = await OfflineEvaluation.test(PopularityModel(), on: split)
        // The autoencoder reads the whole history; the transitions read the last items, half of them noise.
        #expect(dlae.test.ndcgAt10 > transitions.test.ndcgAt10)
        #expect(blend.test.ndcgAt10 >= 0.95 * dlae.test.ndcgAt10)
        #expect(blend.test.ndcgAt10 >= 2 * popular.test.ndcgAt10)
        let selection = blend.selection!
        #expect(selection.componentNDCGAt10[LearnedBlend.Component.ease.rawValue] > selection.componentNDCGAt10[LearnedBlend.Component.latestTransitions.rawValue])
    }

    @Test func neverRecommendsWhatTheUserHasAndTheSameSeedGivesTheSameModel() async {
        let sequences = InteractionSequences(Self.chains(users: 120, seed: 3))
        var a = LearnedBlendModel(configuration: Self.configuration())
        var b = LearnedBlendModel(configuration: Self.configuration())
        await a.fit(sequences: sequences.sequences, itemCount: sequences.items.count)
        await b.fit(sequences: sequences.sequences, itemCount: sequences.items.count)
        #expect(a.linearWeights == b.linearWeights)
        #expect(a.forest == b.forest)
        for history in sequences.sequences.prefix(30) {
            let ranked = a.recommend(history: history, count: 30, itemCount: sequences.items.count)
            #expect(ranked.map(\.item) == b.recommend(history: history, count: 30, itemCount: sequences.items.count).map(\.item))
            #expect(ranked.count == min(30, sequences.items.count - Set(history).count))
            #expect(!ranked.contains { history.contains($0.item) })
        }
    }

    /// The live feed gives the ALS model's candidates from its index: with the exact best items as the
    /// "search", the features are those of scoring every item.
    @Test func indexedALSCandidatesGiveTheSameFeaturesAsScoringEveryItem() async {
        let sequences = InteractionSequences(Self.blocks(users: 100, seed: 4))
        var model = LearnedBlendModel(configuration: Self.configuration())
        await model.fit(sequences: sequences.sequences, itemCount: sequences.items.count)
        for history in sequences.sequences.prefix(20) {
            let full = LearnedBlend.Query(model, history: history)
            let vector = model.als.userVector(history: history)
            let seen = Set(history)
            var top = TopK(model.configuration.candidatesPerModel + history.count)
            for (item, score) in model.als.scores(userVector: vector).enumerated() where !seen.contains(Int32(item)) { top.insert(Int32(item), score: score) }
            let searched = LearnedBlend.Query(model, history: history, als: .init(userVector: vector, hits: top.sorted()))
            #expect(searched.candidates == full.candidates)
            #expect(searched.features == full.features)
        }
    }

    /// The re-ranker may reorder only the blend's candidates: an item no model proposes never moves
    /// ahead of one that some model does.
    @Test func reRankingOnlyReordersTheCandidates() async {
        let sequences = InteractionSequences(Self.chains(users: 120, seed: 5))
        var model = LearnedBlendModel(configuration: Self.configuration())
        await model.fit(sequences: sequences.sequences, itemCount: sequences.items.count)
        for history in sequences.sequences.prefix(20) {
            let candidates = Set(LearnedBlend.Query(model, history: history).candidates)
            let ranked = model.recommend(history: history, count: sequences.items.count, itemCount: sequences.items.count).map(\.item)
            let firstOutsider = ranked.firstIndex { !candidates.contains($0) } ?? ranked.count
            #expect(ranked.prefix(firstOutsider).count == candidates.count)
        }
    }
}
