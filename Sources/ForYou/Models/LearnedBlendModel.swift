// SPDX-License-Identifier: Apache-2.0
//
// ForYou's default offline model: several retrieval models, and a re-ranker learned over the union of
// their best candidates. No single model wins on every kind of data (what people watch next wins on
// ordered histories, a linear autoencoder on unordered ones); the re-ranker learns, from the data
// itself, how much each one says for whom.
//
// The models (LearnedBlend.Component): item transitions (the latest items, and the latest item alone),
// SLIT (a sequence ridge regression), DLAE (a denoising linear autoencoder; also with the history
// weighted by recency), ALS and RP3beta. Each proposes its `candidatesPerModel` best unseen items, and
// so does popularity. For every candidate the features are, per model, its score normalised within the
// query (1 for the model's best candidate, 0 for its last listed one) and the log of its rank in the
// model's list; then the item's log popularity and the log of the history's length
// (LearnedBlend+Features.swift). The score is a linear blend of the normalised scores (weights by
// coordinate ascent on NDCG@10) plus a LambdaMART forest trained from it.
//
// Training (LearnedBlend+Training.swift) holds out the latest positions of users' histories (several
// per user, not one), fits the models on what is left, learns the blend and the forest on the held-out
// targets of 80% of those users and stops the forest where the other 20% rank best (so it may keep no
// tree at all), then refits the models on every history.

/// The learned blend of retrieval models with a LambdaMART re-ranker.
public struct LearnedBlendModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        public var transitions = ItemTransitionModel.Configuration()
        public var slit = SLITModel.Configuration()
        /// The denoising autoencoder. Default: λ 250, dropout 0.2, user weighting 0.25.
        public var ease = EASEModel.Configuration(regularization: 250, dropout: 0.2, userWeighting: 0.25)
        public var als = ALSModel.Configuration()
        public var rp3 = RP3BetaModel.Configuration()
        /// Candidates each model proposes for re-ranking. Default: 50.
        public var candidatesPerModel = 50
        /// The most queries the linear blend's weights are fitted on. Default: 10,000.
        public var blendQueries = 10_000
        /// How many of the linear blend's best candidates the forest re-ranks. Default: 60.
        public var reRankDepth = 60
        /// The most held-out positions per user for training the re-ranker. Default: 40.
        public var heldOutPositions = 40
        /// The largest share of a user's history held out. Default: 1/3 (so every held-out target has at
        /// least two thirds of its history before it, as the targets the model will serve have).
        public var heldOutShare = 1.0 / 3
        /// The most held-out targets (queries) in all; users are sampled beyond it. Default: 40,000.
        public var maximumQueries = 40_000
        /// The re-ranker's trees (LambdaMART).
        var ranker = LambdaMART.Configuration()
        /// Seed of the user sample and of the held-out users. Default: 42.
        public var seed: UInt64 = 42
        /// Tasks fitting and scoring are split over. Default: 2.
        public var threads = 2 {
            didSet { applyThreads() }
        }

        public init() {
            ranker.leaves = 15
            ranker.minimumRowsPerLeaf = 50
            applyThreads()
        }

        private mutating func applyThreads() {
            slit.threads = threads
            ease.threads = threads
            als.threads = threads
            rp3.threads = threads
            ranker.threads = threads
        }
    }

    public let configuration: Configuration
    var transitions: ItemTransitionModel
    /// Direct successors only (window 1): what follows the latest item, and the one before it.
    var successors: ItemTransitionModel
    var slit: SLITModel
    var ease: EASEModel
    var als: ALSModel
    var rp3: RP3BetaModel
    /// Users per item in the fitted histories.
    var popularity: [Float] = [] {
        didSet {
            var top = TopK(min(popularity.count, 1_000))
            for (item, users) in popularity.enumerated() { top.insert(Int32(item), score: users) }
            popularOrder = top.sorted().map(\.element)
        }
    }
    /// The most popular items, most first (at most 1,000: enough for any user's unseen top candidates).
    private(set) var popularOrder: [Int32] = []
    /// Weights of the linear blend, one per ``LearnedBlend/Component`` (its normalised score).
    var linearWeights: [Float] = LearnedBlend.Component.allCases.map { $0 == .ease ? 1 : 0 }
    /// The re-ranker, added to the linear blend.
    var forest = RegressionForest(featureCount: LearnedBlend.featureCount)
    /// What training measured on the held-out users (empty before fitting).
    public internal(set) var selection = LearnedBlend.Selection()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        transitions = ItemTransitionModel(configuration: configuration.transitions)
        successors = ItemTransitionModel(configuration: .init(window: 1, stepDecay: 1, historyLength: 1, historyDecay: 1))
        slit = SLITModel(configuration: configuration.slit)
        ease = EASEModel(configuration: configuration.ease)
        als = ALSModel(configuration: configuration.als)
        rp3 = RP3BetaModel(configuration: configuration.rp3)
    }

    /// Read from the weights alone, so a model loaded from its file has the name it was trained with.
    public var name: String {
        popularity.isEmpty
            ? "LearnedBlend(\(LearnedBlend.Component.allCases.count) models + LambdaMART)"
            : "LearnedBlend(\(forest.treeCount) trees over \(LearnedBlend.describe(linearWeights)))"
    }

    /// The transitions' share against ALS in the linear blend (0.5 when it weighs neither).
    var transitionsShare: Float {
        let w = linearWeights
        let transitions = w[LearnedBlend.Component.transitions.rawValue] + w[LearnedBlend.Component.latestTransitions.rawValue]
            + w[LearnedBlend.Component.previousTransitions.rawValue]
        let total = transitions + w[LearnedBlend.Component.als.rawValue]
        return total > 0 ? transitions / total : 0.5
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        precondition(scores.count == popularity.count, "scores must hold one value per item")
        let query = LearnedBlend.Query(self, history: history)
        // Items no model proposed rank after every candidate, by popularity.
        for index in scores.indices { scores[index] = -10_000 + 0.01 * Float(logarithm(1 + Double(popularity[index]))) }
        let ranked = query.rank(self)
        for (item, score) in ranked { scores[Int(item)] = score }
    }
}
