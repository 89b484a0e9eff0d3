// SPDX-License-Identifier: Apache-2.0
//
// What an algorithm package says about itself, all covered by its signature: the license, the provenance
// of the weights, the hyperparameters, and the manifest that ties them to the weights' digest.

/// The terms under which a licensee may run a package.
public struct License: Sendable, Equatable, Codable {
    /// Who issued the license.
    public var licensor: String
    /// Who may run the package.
    public var licensee: String
    /// The jurisdictions the package may serve in.
    public var jurisdictions: [String]
    /// The first and last moment the license is valid (RFC 3339).
    public var notBefore: String
    public var notAfter: String
    /// What the licensee may do: `serve` (rank feeds with the weights), `retrain` (reuse the
    /// hyperparameters to train on local data).
    public var permittedUses: [String]

    public static let uses = ["serve", "retrain"]

    public init(licensor: String, licensee: String, jurisdictions: [String], notBefore: String, notAfter: String, permittedUses: [String]) {
        self.licensor = licensor
        self.licensee = licensee
        self.jurisdictions = jurisdictions
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.permittedUses = permittedUses
    }

    enum CodingKeys: String, CodingKey {
        case licensor, licensee, jurisdictions
        case notBefore = "not_before"
        case notAfter = "not_after"
        case permittedUses = "permitted_uses"
    }

    /// Checks that the terms are well formed, naming the field.
    public func validate() throws(ForYouError) {
        guard !licensor.isEmpty, !licensee.isEmpty else { throw ForYouError(.invalidArgument, "`licensor` and `licensee` must not be empty") }
        guard !jurisdictions.isEmpty else { throw ForYouError(.invalidArgument, "`jurisdictions` must name at least one jurisdiction") }
        for jurisdiction in jurisdictions { _ = try Jurisdiction(validating: jurisdiction, field: "jurisdictions") }
        guard let start = Timestamp(rfc3339: notBefore) else { throw ForYouError(.invalidTimestamp, "`not_before` must be an RFC 3339 date-time") }
        guard let end = Timestamp(rfc3339: notAfter) else { throw ForYouError(.invalidTimestamp, "`not_after` must be an RFC 3339 date-time") }
        guard start < end else { throw ForYouError(.invalidArgument, "`not_after` must be later than `not_before`") }
        guard !permittedUses.isEmpty, permittedUses.allSatisfy(Self.uses.contains) else {
            throw ForYouError(.invalidArgument, "`permitted_uses` must be a non-empty subset of \(Self.uses.joined(separator: ", "))")
        }
    }
}

/// What a model was trained on: counts, time range and a digest of the data, never the data.
public struct Provenance: Sendable, Equatable, Codable {
    /// `local` for a model trained by this deployment; `licensor` for one trained elsewhere and packaged.
    public var origin: String
    /// The jurisdiction whose data trained it.
    public var jurisdiction: String
    /// When it was trained (RFC 3339).
    public var trainedAt: String
    public var users: Int
    public var events: Int
    public var items: Int
    /// The time range of the training events (RFC 3339); absent when unknown.
    public var firstEventAt: String?
    public var lastEventAt: String?
    /// SHA-256 (hex) of the training events (user, item, time) in log order.
    public var datasetSHA256: String?
    /// `true` when the model was trained on local data alone, with no licensed hyperparameters or weights.
    public var fromScratch: Bool
    /// The package whose hyperparameters were reused, when it was not trained from scratch.
    public var hyperparametersFrom: String?
    /// NDCG@10 of the chosen hyperparameters on an inner validation split of the training data (each
    /// user's last item held out), and how many users that split had; absent when there were too few.
    public var validationNDCGAt10: Double?
    public var validationUsers: Int?
    /// How many users' contributions were removed from the model since it was trained (erasures
    /// unlearned, see Unlearning.swift); `users` and `events` count what remains. Absent when none.
    public var unlearnedUsers: Int?
    /// The version the model had when it was trained, when it has been unlearned since. Absent otherwise.
    public var derivedFrom: String?

    public init(
        origin: String, jurisdiction: String, trainedAt: String, users: Int, events: Int, items: Int, firstEventAt: String? = nil,
        lastEventAt: String? = nil, datasetSHA256: String? = nil, fromScratch: Bool, hyperparametersFrom: String? = nil
    ) {
        self.origin = origin
        self.jurisdiction = jurisdiction
        self.trainedAt = trainedAt
        self.users = users
        self.events = events
        self.items = items
        self.firstEventAt = firstEventAt
        self.lastEventAt = lastEventAt
        self.datasetSHA256 = datasetSHA256
        self.fromScratch = fromScratch
        self.hyperparametersFrom = hyperparametersFrom
    }

    enum CodingKeys: String, CodingKey {
        case origin, jurisdiction, users, events, items
        case trainedAt = "trained_at"
        case firstEventAt = "first_event_at"
        case lastEventAt = "last_event_at"
        case datasetSHA256 = "dataset_sha256"
        case fromScratch = "from_scratch"
        case hyperparametersFrom = "hyperparameters_from"
        case validationNDCGAt10 = "validation_ndcg_at_10"
        case validationUsers = "validation_users"
        case unlearnedUsers = "unlearned_users"
        case derivedFrom = "derived_from"
    }
}

/// The hyperparameters of the default model, as a package carries them.
public struct BlendHyperparameters: Sendable, Equatable, Codable {
    public var transitionWindow: Int
    public var transitionStepDecay: Float
    public var transitionHistoryLength: Int
    public var transitionHistoryDecay: Float
    public var alsFactors: Int
    public var alsRegularization: Float
    public var alsConfidence: Float
    public var alsIterations: Int
    public var alsConjugateGradientSteps: Int
    public var alsFoldInSteps: Int
    public var alsSeed: UInt64
    public var transitionsWeight: Float
    /// Whether the model has a learned re-ranking stage (``BlendModel/reRanker``), trained with its
    /// default configuration; absent (`nil`) in packages of earlier versions and for a two-part blend.
    public var learnedReRanking: Bool?

    /// The hyperparameters of a (fitted or unfitted) model.
    public init(_ model: BlendModel) {
        let t = model.transitions.configuration
        let a = model.als.configuration
        transitionWindow = t.window
        transitionStepDecay = t.stepDecay
        transitionHistoryLength = t.historyLength
        transitionHistoryDecay = t.historyDecay
        alsFactors = a.factors
        alsRegularization = a.regularization
        alsConfidence = a.confidence
        alsIterations = a.iterations
        alsConjugateGradientSteps = a.conjugateGradientSteps
        alsFoldInSteps = a.foldInSteps
        alsSeed = a.seed
        transitionsWeight = model.transitionsWeight
        learnedReRanking = model.reRanker == nil ? nil : true
    }

    /// Checks the ranges a fit needs, naming the field and its rule.
    public func validate() throws(ForYouError) {
        func check(_ ok: Bool, _ message: String) throws(ForYouError) {
            if !ok { throw ForYouError(.invalidArgument, message) }
        }
        try check((1...1024).contains(alsFactors), "als_factors must be in 1...1024")
        try check((1...100).contains(alsIterations), "als_iterations must be in 1...100")
        try check((1...100).contains(alsConjugateGradientSteps), "als_conjugate_gradient_steps must be in 1...100")
        try check((1...100).contains(alsFoldInSteps), "als_fold_in_steps must be in 1...100")
        try check(alsRegularization >= 0 && alsRegularization.isFinite, "als_regularization must be a finite number >= 0")
        try check(alsConfidence >= 0 && alsConfidence.isFinite, "als_confidence must be a finite number >= 0")
        try check((1...100).contains(transitionWindow), "transition_window must be in 1...100")
        try check((1...100).contains(transitionHistoryLength), "transition_history_length must be in 1...100")
        try check((0...1).contains(transitionStepDecay), "transition_step_decay must be in 0...1")
        try check((0...1).contains(transitionHistoryDecay), "transition_history_decay must be in 0...1")
        try check((0...1).contains(transitionsWeight), "transitions_weight must be in 0...1")
    }

    /// An unfitted model with these hyperparameters.
    public func makeModel() -> BlendModel {
        var als = ALSModel.Configuration()
        als.factors = alsFactors
        als.regularization = alsRegularization
        als.confidence = alsConfidence
        als.iterations = alsIterations
        als.conjugateGradientSteps = alsConjugateGradientSteps
        als.foldInSteps = alsFoldInSteps
        als.seed = alsSeed
        let transitions = ItemTransitionModel.Configuration(
            window: transitionWindow, stepDecay: transitionStepDecay, historyLength: transitionHistoryLength, historyDecay: transitionHistoryDecay)
        guard learnedReRanking == true else { return BlendModel(transitions: transitions, als: als, transitionsWeight: transitionsWeight) }
        var stage = LearnedBlendModel.Configuration()
        stage.transitions = transitions
        stage.als = als
        return BlendModel(reRanking: stage)
    }

    enum CodingKeys: String, CodingKey {
        case transitionWindow = "transition_window"
        case transitionStepDecay = "transition_step_decay"
        case transitionHistoryLength = "transition_history_length"
        case transitionHistoryDecay = "transition_history_decay"
        case alsFactors = "als_factors"
        case alsRegularization = "als_regularization"
        case alsConfidence = "als_confidence"
        case alsIterations = "als_iterations"
        case alsConjugateGradientSteps = "als_conjugate_gradient_steps"
        case alsFoldInSteps = "als_fold_in_steps"
        case alsSeed = "als_seed"
        case transitionsWeight = "transitions_weight"
        case learnedReRanking = "learned_reranking"
    }
}

/// The signed description of a package's contents.
public struct PackageManifest: Sendable, Equatable, Codable {
    /// The engine and model code that produced the weights and can run them.
    public var codeVersion: String
    /// The model's version (`blend-…`), also its `model_version` in feeds.
    public var modelVersion: String
    public var model: String
    public var hyperparameters: BlendHyperparameters
    /// SHA-256 (hex) of the weights section.
    public var weightsSHA256: String
    public var provenance: Provenance
    /// Absent for a locally trained model.
    public var license: License?

    enum CodingKeys: String, CodingKey {
        case model, hyperparameters, provenance, license
        case codeVersion = "code_version"
        case modelVersion = "model_version"
        case weightsSHA256 = "weights_sha256"
    }
}

