// SPDX-License-Identifier: Apache-2.0

/// ForYou's default offline model: what people watch next (``ItemTransitionModel``) blended with
/// long-term taste (``ALSModel``). Each model's scores are scaled to a maximum of 1 for the user, then
/// mixed: `transitionsWeight · transitions + (1 − transitionsWeight) · ALS`. The weight is chosen on
/// validation targets by ``OfflineEvaluation/selectDefaultModel(on:threads:progress:)``.
///
/// A blend trained with a learned re-ranking stage (``reRanker``) scores by that stage instead: the
/// candidates of several more models (SLIT, DLAE, RP3beta, …) and of these two parts, which it shares,
/// re-ranked by weights and trees learned on held-out positions (LearnedBlendModel.swift).
public struct BlendModel: SequentialModel {
    public var transitions: ItemTransitionModel
    public var als: ALSModel
    /// Share of the transition model in the blend, 0...1. With a re-ranking stage: the transitions'
    /// share against ALS in its linear blend (what the transparency report shows).
    public var transitionsWeight: Float
    /// The learned re-ranking stage, when the blend was trained with one; its transitions and ALS are
    /// this blend's own (the same storage, not a copy). `nil`: the two parts mixed by `transitionsWeight`.
    public var reRanker: LearnedBlendModel?

    public init(transitions: ItemTransitionModel.Configuration, als: ALSModel.Configuration, transitionsWeight: Float) {
        self.transitions = ItemTransitionModel(configuration: transitions)
        self.als = ALSModel(configuration: als)
        self.transitionsWeight = transitionsWeight
    }

    /// An unfitted blend with a learned re-ranking stage of this configuration (whose transitions and
    /// ALS configurations are the blend's).
    public init(reRanking configuration: LearnedBlendModel.Configuration) {
        self.init(transitions: configuration.transitions, als: configuration.als, transitionsWeight: 0.5)
        reRanker = LearnedBlendModel(configuration: configuration)
    }

    public var name: String {
        if let reRanker { return reRanker.name }
        return "Blend(\(transitionsWeight.formatted2) × \(transitions.name) + \((1 - transitionsWeight).formatted2) × \(als.name))"
    }

    /// Fits both parts (whatever the weight, so a stored blend is always complete).
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        await fit(sequences: sequences, itemCount: itemCount) { _ in }
    }

    /// ``fit(sequences:itemCount:)``, reporting the re-ranking stage's steps to `progress`.
    public mutating func fit(sequences: [[Int32]], itemCount: Int, progress: (String) -> Void) async {
        guard var stage = reRanker else {
            await transitions.fit(sequences: sequences, itemCount: itemCount)
            await als.fit(sequences: sequences, itemCount: itemCount)
            return
        }
        reRanker = nil  // so the stage's arrays are not shared while it fits
        await stage.fit(sequences: sequences, itemCount: itemCount, progress: progress)
        transitions = stage.transitions
        als = stage.als
        transitionsWeight = stage.transitionsShare
        reRanker = stage
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        if let reRanker { return reRanker.score(history: history, into: &scores) }
        var other = [Float](repeating: 0, count: scores.count)
        if transitionsWeight > 0 {
            transitions.score(history: history, into: &scores)
        } else {
            for index in scores.indices { scores[index] = 0 }
        }
        if transitionsWeight < 1 { als.score(history: history, into: &other) }
        Self.mix(&scores, other, weight: transitionsWeight)
    }

    /// `first` ← w · first / max(first) + (1 − w) · second / max(second), each max taken over positive values.
    static func mix(_ first: inout [Float], _ second: [Float], weight: Float) {
        let a = first.max().map { $0 > 0 ? weight / $0 : 0 } ?? 0
        let b = second.max().map { $0 > 0 ? (1 - weight) / $0 : 0 } ?? 0
        for index in first.indices { first[index] = a * first[index] + b * second[index] }
    }
}

extension Float {
    /// Two decimals, without Foundation.
    var formatted2: String {
        let hundredths = Int((self * 100).rounded())
        let fraction = abs(hundredths) % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
