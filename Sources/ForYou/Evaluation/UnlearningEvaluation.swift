// SPDX-License-Identifier: Apache-2.0
//
// Unlearning against its ground truth, offline (`foryou bench unlearning --interactions FILE`): the
// default model (the blend with its re-ranking stage) is fitted on the protocol's `fit` histories
// (train + validation); then, for each count n, n users chosen at random (seeded) are unlearned
// (Unlearning.swift, with ALS's inputs estimated as the engine estimates them: engagers folded in from
// their histories, at most 1,000 per item, and XᵀX from 1,000 users) and, beside it, the model is fitted
// from scratch on the other users' histories. Reported per n:
// - exactness of the parts unlearned exactly: the largest relative difference of the transition and
//   successor values, and whether popularity, SLIT, DLAE and RP3beta equal the refit's;
// - NDCG@10 on the other users' test targets (PROTOCOL.md's last item), of the model before, after
//   unlearning and refitted, for the whole model and for ALS alone;
// - how far the erased users' items' ALS vectors are from the refit's, before and after unlearning, and
//   between two refits that differ only in their seed (the noise floor; its ALS NDCG@10 too). Factors
//   are only defined up to a rotation, so the distance compares each item's inner products with every
//   item (Y·y_i), which a rotation leaves alone: √(Σ_i ‖Y_a y_a,i − Y_b y_b,i‖² / Σ_i ‖Y_b y_b,i‖²) over
//   the erased users' items (a ratio of sums: an item only they engaged with has almost nothing in the
//   refit to divide by).
// - the seconds unlearning took, beside the seconds of the refit.

/// Measures unlearning on a split.
public enum UnlearningEvaluation {
    public struct Row: Sendable {
        public var users: Int
        public var unlearnSeconds: Double
        public var refitSeconds: Double
        public var refittedItems: Int
        /// Largest relative difference of a transition (successor) value from the refit's.
        public var transitionsDifference: Double
        public var successorsDifference: Double
        /// Whether popularity, SLIT, DLAE and RP3beta equal the refit's, each.
        public var exactParts: [(name: String, equal: Bool)]
        /// NDCG@10 of the other users: before, unlearned, refitted.
        public var ndcg: (before: Double, unlearned: Double, refit: Double)
        public var alsNDCG: (before: Double, unlearned: Double, refit: Double, reseeded: Double)
        /// Distance of the erased users' items' ALS vectors from the refit's: before, after, and between two refits.
        public var distance: (before: Double, unlearned: Double, noise: Double)
    }

    public static func run(
        on split: LeaveLastOutSplit, erasing counts: [Int], seed: UInt64 = 42, threads: Int = 2, progress: (String) -> Void = { _ in }
    ) async -> (fitSeconds: Double, rows: [Row]) {
        let sequences = split.fit
        let itemCount = split.items.count
        var configuration = LearnedBlendModel.Configuration()
        configuration.threads = threads
        var start = ContinuousClock.now
        var trained = BlendModel(reRanking: configuration)
        await trained.fit(sequences: sequences, itemCount: itemCount)
        let fitSeconds = (ContinuousClock.now - start).inSeconds
        progress("fitted \(trained.name) in \(Float(fitSeconds).formatted2) s")
        var rows: [Row] = []
        var random = SplitMix64(seed: seed)
        var order = Array(sequences.indices)
        order.shuffle(using: &random)
        for count in counts where count < sequences.count {
            let erasedSet = Set(order.prefix(count))
            let erased = erasedSet.sorted().map { sequences[$0] }
            let kept = sequences.indices.filter { !erasedSet.contains($0) }
            let remaining = kept.map { sequences[$0] }
            start = ContinuousClock.now
            var unlearned = trained
            let engagers = trained.als.engagers(of: Set(erased.joined()), in: remaining, limit: 1_000)
            let sample = remaining.prefix(1_000).map { trained.als.userVector(history: $0) }
            let report = await unlearned.unlearn(
                erased: erased, remaining: remaining, engagers: engagers,
                userGramian: trained.als.userGramian(sample: sample, population: remaining.count))
            let unlearnSeconds = (ContinuousClock.now - start).inSeconds
            start = ContinuousClock.now
            var refit = BlendModel(reRanking: configuration)
            await refit.fit(sequences: remaining, itemCount: itemCount)
            let refitSeconds = (ContinuousClock.now - start).inSeconds
            var reseeded = configuration.als
            reseeded.seed &+= 1
            var otherRefit = ALSModel(configuration: reseeded)
            await otherRefit.fit(sequences: remaining, itemCount: itemCount)

            let targets = kept.map { split.test[$0] }
            func ndcg(_ model: some SequentialModel) async -> Double {
                let rankings = await OfflineEvaluation.rank(model, histories: remaining, itemCount: itemCount, count: 10, threads: threads)
                return RankingMetrics(rankings: rankings, targets: targets, catalogueSize: itemCount).ndcgAt10
            }
            let (stage, truth) = (unlearned.reRanker!, refit.reRanker!)
            let items = report.refittedItems
            let row = Row(
                users: count, unlearnSeconds: unlearnSeconds, refitSeconds: refitSeconds, refittedItems: items.count,
                transitionsDifference: Self.largestDifference(unlearned.transitions.values, refit.transitions.values, sameShape: unlearned.transitions.columns == refit.transitions.columns),
                successorsDifference: Self.largestDifference(stage.successors.values, truth.successors.values, sameShape: stage.successors.columns == truth.successors.columns),
                exactParts: [
                    ("popularity", stage.popularity == truth.popularity && unlearned.transitions.popularity == refit.transitions.popularity),
                    ("slit", stage.slit.weights.storage == truth.slit.weights.storage),
                    ("dlae", stage.ease.weights.storage == truth.ease.weights.storage && stage.ease.modelled == truth.ease.modelled),
                    ("rp3beta", stage.rp3.neighbours.map { $0.map(\.item) } == truth.rp3.neighbours.map { $0.map(\.item) }
                        && stage.rp3.neighbours.map { $0.map(\.weight) } == truth.rp3.neighbours.map { $0.map(\.weight) }),
                ],
                ndcg: (await ndcg(trained), await ndcg(unlearned), await ndcg(refit)),
                alsNDCG: (await ndcg(trained.als), await ndcg(unlearned.als), await ndcg(refit.als), await ndcg(otherRefit)),
                distance: (
                    Self.distance(trained.als.itemFactors, refit.als.itemFactors, items: items),
                    Self.distance(unlearned.als.itemFactors, refit.als.itemFactors, items: items),
                    Self.distance(otherRefit.itemFactors, refit.als.itemFactors, items: items)))
            progress("unlearned \(count) users in \(Float(unlearnSeconds).formatted2) s (refit \(Float(refitSeconds).formatted2) s)")
            rows.append(row)
        }
        return (fitSeconds, rows)
    }

    /// max |a − b| / |b| over the values (b's floor 1e-7), or infinity when the sparsity patterns differ.
    static func largestDifference(_ a: [Float], _ b: [Float], sameShape: Bool) -> Double {
        guard sameShape, a.count == b.count else { return .infinity }
        return zip(a, b).map { Double(abs($0 - $1)) / max(Double(abs($1)), 1e-7) }.max() ?? 0
    }

    /// √(Σ_i ‖A a_i − B b_i‖² / Σ_i ‖B b_i‖²) over `items` (rotation-invariant; see the top of the file).
    static func distance(_ a: Matrix, _ b: Matrix, items: [Int32]) -> Double {
        guard !items.isEmpty else { return 0 }
        let k = a.columns
        var difference = 0.0
        var reference = 0.0
        for item in items {
            for other in 0..<a.rows {
                var dotA: Float = 0
                var dotB: Float = 0
                for d in 0..<k {
                    dotA += a[other, d] * a[Int(item), d]
                    dotB += b[other, d] * b[Int(item), d]
                }
                difference += Double((dotA - dotB) * (dotA - dotB))
                reference += Double(dotB * dotB)
            }
        }
        return reference > 0 ? (difference / reference).squareRoot() : 0
    }
}
