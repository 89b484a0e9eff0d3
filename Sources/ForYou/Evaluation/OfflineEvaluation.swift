// SPDX-License-Identifier: Apache-2.0
//
// PROTOCOL.md steps 5 to 7: choose hyperparameters on train → validation only, refit on train +
// validation, rank the whole catalogue for the test target (items in the fitting input excluded, ties
// by lower item id), and score. Ranking is spread over `threads` tasks; results do not depend on it.

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

    /// One candidate's validation score during model selection.
    public struct Trial: Sendable {
        public var configuration: ItemTransitionModel.Configuration
        public var validation: RankingMetrics
    }

    /// The result of the full protocol for one model family.
    public struct Report: Sendable {
        /// Every configuration tried on train → validation.
        public var trials: [Trial]
        /// The configuration with the best validation NDCG@10 (first in `candidates` on a tie).
        public var chosen: ItemTransitionModel.Configuration
        /// The chosen model, refitted on train + validation, scored on the test targets.
        public var test: RankingMetrics
        /// The test rankings, per user of the split, for writing out and cross-checking.
        public var testRankings: [[Int32]]
        /// Seconds spent fitting (selection and the final fit), wall clock.
        public var fitSeconds: Double
    }

    /// The item-transition configurations tried by default: two transition windows × three history lengths.
    public static let defaultCandidates: [ItemTransitionModel.Configuration] = [
        .init(window: 5, stepDecay: 0.7, historyLength: 5, historyDecay: 0.5),
        .init(window: 3, stepDecay: 0.5, historyLength: 3, historyDecay: 0.6),
        .init(window: 3, stepDecay: 0.5, historyLength: 5, historyDecay: 0.5),
        .init(window: 3, stepDecay: 0.5, historyLength: 10, historyDecay: 0.7),
        .init(window: 5, stepDecay: 0.7, historyLength: 3, historyDecay: 0.6),
        .init(window: 5, stepDecay: 0.7, historyLength: 10, historyDecay: 0.7),
    ]

    /// Chooses among `candidates` on the validation targets.
    public static func select(
        on split: LeaveLastOutSplit, candidates: [ItemTransitionModel.Configuration] = defaultCandidates, threads: Int = 2,
        progress: (String) -> Void = { _ in }
    ) async -> (chosen: ItemTransitionModel.Configuration, trials: [Trial]) {
        var trials: [Trial] = []
        for configuration in candidates {
            var model = ItemTransitionModel(configuration: configuration)
            model.fit(sequences: split.train, itemCount: split.items.count)
            let rankings = await rank(model, histories: split.train, itemCount: split.items.count, threads: threads)
            let metrics = RankingMetrics(rankings: rankings, targets: split.validation, catalogueSize: split.items.count)
            trials.append(Trial(configuration: configuration, validation: metrics))
            progress("\(model.name): validation NDCG@10 \(metrics.ndcgAt10.formatted4)")
        }
        let best = trials.enumerated().max { a, b in
            a.element.validation.ndcgAt10 < b.element.validation.ndcgAt10
                || (a.element.validation.ndcgAt10 == b.element.validation.ndcgAt10 && a.offset > b.offset)
        }!
        return (best.element.configuration, trials)
    }

    /// The whole protocol for the item-transition model: select, refit, rank, score.
    public static func run(
        on split: LeaveLastOutSplit, candidates: [ItemTransitionModel.Configuration] = defaultCandidates, threads: Int = 2,
        progress: (String) -> Void = { _ in }
    ) async -> Report {
        let start = ContinuousClock.now
        let (chosen, trials) = await select(on: split, candidates: candidates, threads: threads, progress: progress)
        var model = ItemTransitionModel(configuration: chosen)
        let fit = split.fit
        model.fit(sequences: fit, itemCount: split.items.count)
        let elapsed = ContinuousClock.now - start
        let rankings = await rank(model, histories: fit, itemCount: split.items.count, threads: threads)
        let test = RankingMetrics(rankings: rankings, targets: split.test, catalogueSize: split.items.count)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Report(trials: trials, chosen: chosen, test: test, testRankings: rankings, fitSeconds: seconds)
    }
}

extension Double {
    /// Four decimals, without Foundation.
    public var formatted4: String {
        let scaled = (self * 10_000).rounded()
        let whole = Int(scaled) / 10_000
        let fraction = abs(Int(scaled)) % 10_000
        let digits = String(fraction)
        return "\(self < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: 4 - digits.count))\(digits)"
    }
}
