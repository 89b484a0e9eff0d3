// SPDX-License-Identifier: Apache-2.0

/// ForYou's default offline model: what people watch next (``ItemTransitionModel``) blended with
/// long-term taste (``ALSModel``). Each model's scores are scaled to a maximum of 1 for the user, then
/// mixed: `transitionsWeight · transitions + (1 − transitionsWeight) · ALS`. The weight is chosen on
/// validation targets by ``OfflineEvaluation/selectDefaultModel(on:threads:progress:)``.
public struct BlendModel: SequentialModel {
    public var transitions: ItemTransitionModel
    public var als: ALSModel
    /// Share of the transition model in the blend, 0...1.
    public var transitionsWeight: Float

    public init(transitions: ItemTransitionModel.Configuration, als: ALSModel.Configuration, transitionsWeight: Float) {
        self.transitions = ItemTransitionModel(configuration: transitions)
        self.als = ALSModel(configuration: als)
        self.transitionsWeight = transitionsWeight
    }

    public var name: String {
        "Blend(\(transitionsWeight.formatted2) × \(transitions.name) + \((1 - transitionsWeight).formatted2) × \(als.name))"
    }

    /// Fits both parts (whatever the weight, so a stored blend is always complete).
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        await transitions.fit(sequences: sequences, itemCount: itemCount)
        await als.fit(sequences: sequences, itemCount: itemCount)
    }

    public func score(history: [Int32], into scores: inout [Float]) {
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
