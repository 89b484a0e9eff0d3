// SPDX-License-Identifier: Apache-2.0
//
// PROTOCOL.md steps 5 to 7: choose hyperparameters on train → validation only, refit on train +
// validation, rank the whole catalogue for the test target (items in the fitting input excluded, ties
// by lower item id), and score. Ranking is spread over `threads` tasks; results do not depend on it.
//
// Selection of the default model (`selectDefaultModel`): the transition model's configuration among
// `transitionCandidates`, then the blend weight with ALS among `blendWeights`, each by validation NDCG@10.

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

    /// Chooses the default model's hyperparameters on `split`'s validation targets only.
    public static func selectDefaultModel(
        on split: LeaveLastOutSplit, threads: Int = 2, progress: (String) -> Void = { _ in }
    ) async -> BlendModel {
        var bestTransitions = transitionCandidates[0]
        var bestScore = -1.0
        for configuration in transitionCandidates {
            let metrics = await validate(ItemTransitionModel(configuration: configuration), on: split, threads: threads)
            progress("\(ItemTransitionModel(configuration: configuration).name): validation NDCG@10 \(metrics.ndcgAt10.formatted4)")
            if metrics.ndcgAt10 > bestScore {
                bestScore = metrics.ndcgAt10
                bestTransitions = configuration
            }
        }
        var als = ALSModel.Configuration()
        als.threads = threads
        // Both models are fitted once; each weight only re-mixes their scores.
        var candidate = BlendModel(transitions: bestTransitions, als: als, transitionsWeight: 0.5)
        await candidate.fit(sequences: split.train, itemCount: split.items.count)
        var bestWeight: Float = 1
        bestScore = -1
        for weight in blendWeights {
            candidate.transitionsWeight = weight
            let rankings = await rank(candidate, histories: split.train, itemCount: split.items.count, threads: threads)
            let metrics = RankingMetrics(rankings: rankings, targets: split.validation, catalogueSize: split.items.count)
            progress("blend with \(weight.formatted2) transitions: validation NDCG@10 \(metrics.ndcgAt10.formatted4)")
            if metrics.ndcgAt10 > bestScore {
                bestScore = metrics.ndcgAt10
                bestWeight = weight
            }
        }
        return BlendModel(transitions: bestTransitions, als: als, transitionsWeight: bestWeight)
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
        // BPR's SGD runs on one thread (see BPRModel); MostPopular only counts.
        let fitThreads = model is BPRModel || model is PopularityModel ? 1 : threads
        return Result(name: model.name, test: metrics, rankings: rankings, fitSeconds: fitSeconds, threads: fitThreads)
    }

    /// The whole protocol: MostPopular, ItemKNN, BPR, EASE (where the catalogue allows), the default
    /// model's parts alone (with the chosen hyperparameters), and the default model.
    public static func run(on split: LeaveLastOutSplit, threads: Int = 2, progress: (String) -> Void = { _ in }) async -> [Result] {
        let start = ContinuousClock.now
        let chosen = await selectDefaultModel(on: split, threads: threads, progress: progress)
        let selection = seconds(since: start)
        progress("chose \(chosen.name)")
        var results: [Result] = []
        var knn = ItemKNNModel.Configuration()
        knn.threads = threads
        var ease = EASEModel.Configuration()
        ease.threads = threads
        var baselines: [any SequentialModel] = [PopularityModel(), ItemKNNModel(configuration: knn), BPRModel()]
        if EASEModel(configuration: ease).fits(itemCount: split.items.count) { baselines.append(EASEModel(configuration: ease)) }
        baselines += [chosen.als, chosen.transitions]
        for model in baselines {
            progress("fitting \(model.name) on train + validation")
            results.append(await test(model, on: split, threads: threads))
        }
        var final = await test(chosen, on: split, threads: threads, selectionSeconds: selection)
        final.name = "ForYou default: " + final.name
        results.append(final)
        return results
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
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
