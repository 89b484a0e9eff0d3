// SPDX-License-Identifier: Apache-2.0
//
// PROTOCOL.md steps 5 to 7: choose hyperparameters on train → validation only, refit on train +
// validation, rank the whole catalogue for the test target (items in the fitting input excluded, ties
// by lower item id), and score. Ranking is spread over `threads` tasks; results do not depend on it.
//
// Selection of the default model (`selectDefaultModel`): every transition configuration among
// `transitionCandidates` × every blend weight with ALS among `blendWeights`, by validation NDCG@10.

/// Runs the offline protocol on a split.
public enum OfflineEvaluation {
    /// Each user's top `count` items after `histories` (seen items excluded), best first.
    public static func rank(
        _ model: some SequentialModel, histories: [[Int32]], itemCount: Int, count: Int = 20, threads: Int = 2
    ) async -> [[Int32]] {
        let chunk = max(1, (histories.count + threads - 1) / max(1, threads))
        return await withTaskGroup(of: (Int, [[Int32]]).self) { group in
            for start in stride(from: 0, to: histories.count, by: chunk) {
                group.addTask {
                    let end = min(start + chunk, histories.count)
                    return (start, histories[start..<end].map { model.recommend(history: $0, count: count, itemCount: itemCount).map(\.item) })
                }
            }
            var rankings = [[Int32]](repeating: [], count: histories.count)
            for await (start, part) in group {
                for (offset, ranking) in part.enumerated() { rankings[start + offset] = ranking }
            }
            return rankings
        }
    }

    /// Fits a model on `train` and scores it on the validation targets.
    public static func validate(_ model: some SequentialModel, on split: LeaveLastOutSplit, threads: Int = 2) async -> RankingMetrics {
        var model = model
        await model.fit(sequences: split.train, itemCount: split.items.count)
        let rankings = await rank(model, histories: split.train, itemCount: split.items.count, threads: threads)
        return RankingMetrics(rankings: rankings, targets: split.validation, catalogueSize: split.items.count)
    }

    /// The transition configurations tried: two transition windows × three history lengths.
    public static let transitionCandidates: [ItemTransitionModel.Configuration] = [
        .init(window: 5, stepDecay: 0.7, historyLength: 5, historyDecay: 0.5),
        .init(window: 3, stepDecay: 0.5, historyLength: 3, historyDecay: 0.6),
        .init(window: 3, stepDecay: 0.5, historyLength: 5, historyDecay: 0.5),
        .init(window: 3, stepDecay: 0.5, historyLength: 10, historyDecay: 0.7),
        .init(window: 5, stepDecay: 0.7, historyLength: 3, historyDecay: 0.6),
        .init(window: 5, stepDecay: 0.7, historyLength: 10, historyDecay: 0.7),
    ]

    /// The shares of the transition model tried in the blend with ALS.
    public static let blendWeights: [Float] = [0, 0.2, 0.4, 0.6, 0.8, 1]

    /// Chooses the default model's hyperparameters on `split`'s validation targets only: every
    /// transition configuration × every blend weight with ALS, by validation NDCG@10 (the first
    /// combination wins a tie). ALS and each transition model are fitted once; users are scored in
    /// parallel, one user's score vectors at a time, so memory does not grow with users × items.
    public static func selectDefaultModel(
        on split: LeaveLastOutSplit, threads: Int = 2, progress: (String) -> Void = { _ in }
    ) async -> BlendModel {
        await selectDefaultModelScored(on: split, threads: threads, progress: progress).model
    }

    /// ``selectDefaultModel(on:threads:progress:)`` with the chosen model's validation NDCG@10.
    static func selectDefaultModelScored(
        on split: LeaveLastOutSplit, threads: Int = 2, progress: (String) -> Void = { _ in }
    ) async -> (model: BlendModel, validationNDCGAt10: Double) {
        var alsConfiguration = ALSModel.Configuration()
        alsConfiguration.threads = threads
        var als = ALSModel(configuration: alsConfiguration)
        await als.fit(sequences: split.train, itemCount: split.items.count)
        var transitions: [ItemTransitionModel] = []
        for configuration in transitionCandidates {
            var model = ItemTransitionModel(configuration: configuration)
            await model.fit(sequences: split.train, itemCount: split.items.count)
            transitions.append(model)
        }
        let fitted = (als: als, transitions: transitions)
        let n = split.items.count
        let weights = blendWeights
        let chunk = max(1, (split.train.count + threads - 1) / max(1, threads))
        // perUser[u][t * weights.count + w]: NDCG@10 of user u for transition model t blended with weight w.
        // Summed in user order afterwards, so the choice does not depend on how users were split.
        let perUser = await withTaskGroup(of: (Int, [[Double]]).self) { group in
            for start in stride(from: 0, to: split.train.count, by: chunk) {
                group.addTask {
                    var part: [[Double]] = []
                    var alsScores = [Float](repeating: 0, count: n)
                    var transitionScores = [Float](repeating: 0, count: n)
                    var mixed = [Float](repeating: 0, count: n)
                    for user in start..<min(start + chunk, split.train.count) {
                        var gains = [Double](repeating: 0, count: fitted.transitions.count * weights.count)
                        let history = split.train[user]
                        fitted.als.score(history: history, into: &alsScores)
                        for (t, model) in fitted.transitions.enumerated() {
                            model.score(history: history, into: &transitionScores)
                            for (w, weight) in weights.enumerated() {
                                for i in 0..<n { mixed[i] = transitionScores[i] }
                                BlendModel.mix(&mixed, alsScores, weight: weight)
                                gains[t * weights.count + w] = ndcgAt10(of: split.validation[user], scores: &mixed, excluding: history)
                            }
                        }
                        part.append(gains)
                    }
                    return (start, part)
                }
            }
            var all = [[Double]](repeating: [], count: split.train.count)
            for await (start, part) in group { for (offset, gains) in part.enumerated() { all[start + offset] = gains } }
            return all
        }
        var gains = [Double](repeating: 0, count: transitions.count * weights.count)
        for user in perUser { for i in gains.indices { gains[i] += user[i] } }
        var best = 0
        for (index, gain) in gains.enumerated() where gain > gains[best] { best = index }
        let users = Double(max(1, split.train.count))
        for (t, model) in transitions.enumerated() {
            let row = weights.indices.map { "\(weights[$0].formatted2): \((gains[t * weights.count + $0] / users).formatted4)" }
            progress("\(model.name), validation NDCG@10 by transition share: \(row.joined(separator: ", "))")
        }
        var chosen = BlendModel(
            transitions: transitionCandidates[best / weights.count], als: alsConfiguration, transitionsWeight: weights[best % weights.count])
        chosen.als = ALSModel(configuration: alsConfiguration)
        return (chosen, gains[best] / users)
    }

    /// NDCG@10 of one target given full scores (history items excluded, ties by lower index).
    static func ndcgAt10(of target: Int32, scores: inout [Float], excluding history: [Int32]) -> Double {
        for item in history { scores[Int(item)] = -.infinity }
        let targetScore = scores[Int(target)]
        guard targetScore > -.infinity else { return 0 }
        // The target's rank: items scoring higher, or equal with a lower index, come first.
        var ahead = 0
        for (index, value) in scores.enumerated() where value > targetScore || (value == targetScore && index < Int(target)) {
            ahead += 1
            if ahead >= 10 { return 0 }
        }
        return 1 / (logarithm(Double(ahead + 2)) / logarithm(2))
    }

    /// One model's test result.
    public struct Result: Sendable {
        public var name: String
        public var test: RankingMetrics
        /// Test rankings per user of the split, for writing out and cross-checking.
        public var rankings: [[Int32]]
        /// Wall seconds of fitting, including hyperparameter selection where there is any.
        public var fitSeconds: Double
        /// Threads the fit used.
        public var threads: Int
        /// What the learned blend measured while fitting (`nil` for every other model).
        public var selection: LearnedBlend.Selection?
    }

    /// Refits `model` on train + validation and scores it on the test targets.
    public static func test(
        _ model: some SequentialModel, on split: LeaveLastOutSplit, threads: Int = 2, selectionSeconds: Double = 0
    ) async -> Result {
        var model = model
        let start = ContinuousClock.now
        await model.fit(sequences: split.fit, itemCount: split.items.count)
        let fitSeconds = seconds(since: start) + selectionSeconds
        let rankings = await rank(model, histories: split.fit, itemCount: split.items.count, threads: threads)
        let metrics = RankingMetrics(rankings: rankings, targets: split.test, catalogueSize: split.items.count)
        // BPR's SGD runs on one thread (see BPRModel); MostPopular and the transition counts are single loops.
        let fitThreads = model is BPRModel || model is PopularityModel || model is ItemTransitionModel ? 1 : threads
        return Result(
            name: model.name, test: metrics, rankings: rankings, fitSeconds: fitSeconds, threads: fitThreads,
            selection: (model as? LearnedBlendModel)?.selection)
    }

    /// The whole protocol: every model ForYou has, each alone with its defaults (the earlier default,
    /// transitions blended with ALS, with its selection), and the default model, the learned blend,
    /// whose fit includes its own tuning on held-out positions of the fitting histories.
    public static func run(on split: LeaveLastOutSplit, threads: Int = 2, progress: (String) -> Void = { _ in }) async -> [Result] {
        var results: [Result] = []
        var knn = ItemKNNModel.Configuration()
        knn.threads = threads
        var ease = EASEModel.Configuration()
        ease.threads = threads
        var blend = LearnedBlendModel.Configuration()
        blend.threads = threads
        var rp3 = blend.rp3
        rp3.threads = threads
        let models: [any SequentialModel] = [
            PopularityModel(), ItemKNNModel(configuration: knn), BPRModel(), EASEModel(configuration: ease),
            EASEModel(configuration: blend.ease), RP3BetaModel(configuration: rp3), ALSModel(configuration: blend.als),
            ItemTransitionModel(configuration: blend.transitions), SLITModel(configuration: blend.slit),
        ]
        for model in models {
            progress("fitting \(model.name) on train + validation")
            results.append(await test(model, on: split, threads: threads))
        }
        let start = ContinuousClock.now
        let chosen = await selectDefaultModel(on: split, threads: threads, progress: progress)
        var earlier = await test(chosen, on: split, threads: threads, selectionSeconds: seconds(since: start))
        earlier.name = "Earlier default: " + earlier.name
        results.append(earlier)
        progress("fitting the learned blend on train + validation (it tunes itself on held-out positions of those histories)")
        var final = await test(LearnedBlendModel(configuration: blend), on: split, threads: threads)
        final.name = "ForYou default: " + final.name
        results.append(final)
        return results
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).inSeconds }
}

extension Double {
    /// Four decimals, without Foundation.
    public var formatted4: String {
        let scaled = Int((self * 10_000).rounded())
        let fraction = abs(scaled) % 10_000
        let digits = String(fraction)
        return "\(scaled < 0 ? "-" : "")\(abs(scaled) / 10_000).\(String(repeating: "0", count: 4 - digits.count))\(digits)"
    }
}
