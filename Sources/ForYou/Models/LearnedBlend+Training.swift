// SPDX-License-Identifier: Apache-2.0
//
// How the learned blend is fitted (see LearnedBlendModel.swift):
// 1. Held-out targets. Users with at least 3 items hold out their latest k positions: at most
//    `heldOutPositions` (40), at most `heldOutShare` (a third) of their history, always leaving 2 items,
//    and fewer when that would make more than `maximumQueries` targets; beyond `maximumQueries` users, a
//    seeded sample of them holds out one position each. (Several positions per user, not one, so that
//    the choices below rest on tens of thousands of targets, not on one per user.)
// 2. The models are fitted on every history without its held-out items.
// 3. Each held-out position p of a history h is a query: history h[..<p], target h[p]. Its candidates
//    are the models' lists (LearnedBlend+Features.swift); the user's other held-out items h[p+1...] are
//    left out (they are not wrong answers, only later ones); a query whose target no model proposed
//    teaches nothing and is dropped.
// 4. The users fall in five folds by a seeded hash. The linear blend of the models' normalised scores
//    (coordinate ascent on NDCG@10) is judged out of fold against the best model alone and kept only
//    when better; LambdaMART then learns from the blend's scores on folds 1-4 and stops where fold 0
//    ranks best; its trees are kept only when they beat the blend on fold 0 clearly (see below).
// 5. The models are fitted again on every history, unless the held-out items were at most 2% of all
//    (a large log, where refitting would double the cost for nothing).

extension LearnedBlend {
    /// What fitting measured on the held-out users: NDCG@10 of their held-out targets among the candidates.
    public struct Selection: Sendable, Equatable {
        /// Each model alone, by ``Component``.
        public var componentNDCGAt10: [Double] = []
        /// The linear blend fitted on the other folds' users, each fold in turn.
        public var linearOutOfFoldNDCGAt10 = 0.0
        /// The linear blend as chosen, on the forest's held-out fold.
        public var linearNDCGAt10 = 0.0
        /// The linear blend plus the kept trees.
        public var blendedNDCGAt10 = 0.0
        /// Trees kept (0: the linear blend alone ranked the held-out users best).
        public var treesKept = 0
        /// Queries used (training users', held-out users').
        public var trainingQueries = 0
        public var heldOutQueries = 0
        /// Users whose targets those held-out queries are.
        public var heldOutUsers = 0
        /// The linear blend, readably.
        public var linearDescription = ""

        public var isEmpty: Bool { componentNDCGAt10.isEmpty }

        /// One line per finding, for `foryou eval` and `foryou recommend`.
        public var lines: [String] {
            guard !isEmpty else { return [] }
            let models = zip(Component.allCases, componentNDCGAt10).map { "\($0.0.name) \($0.1.formatted4)" }.joined(separator: ", ")
            return [
                "held-out NDCG@10 (\(heldOutQueries) targets of held-out users; trained on \(trainingQueries)): each model alone: \(models)",
                "linear blend out of fold: \(linearOutOfFoldNDCGAt10.formatted4); chosen: \(linearDescription)",
                "on fold 0: linear \(linearNDCGAt10.formatted4); with \(treesKept) LambdaMART trees: \(blendedNDCGAt10.formatted4)",
            ]
        }
    }
}

extension LearnedBlendModel {
    /// - Complexity: two fits of every model, plus O(Q · M · N) features for Q queries, M models and N
    ///   items, plus the forest: O(trees · rows · features).
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        await fit(sequences: sequences, itemCount: itemCount) { _ in }
    }

    /// ``fit(sequences:itemCount:)``, reporting each step to `progress`.
    public mutating func fit(sequences: [[Int32]], itemCount: Int, progress: (String) -> Void) async {
        let c = configuration
        // 1. Held-out positions.
        let eligible = sequences.indices.filter { sequences[$0].count >= 3 }
        var heldOut = [Int](repeating: 0, count: sequences.count)
        if eligible.count > c.maximumQueries {
            var random = SplitMix64(seed: c.seed)
            var sample = eligible
            sample.shuffle(using: &random)
            for user in sample.prefix(c.maximumQueries) { heldOut[user] = 1 }
        } else if !eligible.isEmpty {
            let perUser = max(1, min(c.heldOutPositions, c.maximumQueries / eligible.count))
            for user in eligible {
                let count = sequences[user].count
                heldOut[user] = max(1, min(perUser, count - 2, Int(Double(count) * c.heldOutShare)))
            }
        }
        // 2-3. The models on what is left, and the held-out users' queries.
        let heldOutItems = heldOut.reduce(0, +)
        let allItems = sequences.reduce(0) { $0 + $1.count }
        progress("fitting \(LearnedBlend.Component.allCases.count) models on \(sequences.count) histories without their \(heldOutItems) held-out items")
        await fitComponents(on: sequences.indices.map { Array(sequences[$0].dropLast(heldOut[$0])) }, itemCount: itemCount, progress: progress)
        let parts = await queries(sequences, holding: heldOut, itemCount: itemCount)
        progress("\(parts.count) held-out targets among their models' candidates (of \(heldOutItems))")
        // 4. The users fall in five folds by a seeded hash. The linear blend reads only the models'
        //    normalised scores; it is judged out of fold (fitted on four folds, scored on the fifth, five
        //    times) against the best model alone, each fit on at most `blendQueries` queries (eight
        //    weights need no more). The forest then re-ranks each query's `reRankDepth` best candidates by
        //    the blend: trained on folds 1-4, stopped on fold 0.
        let folds = 5
        let columns = LearnedBlend.Component.allCases.map { LearnedBlend.perComponent * $0.rawValue }
        var blendFolds = [RankingExamples](repeating: RankingExamples(featureCount: columns.count), count: folds)
        var foldOfQuery: [Int] = []
        for (user, query, target) in parts {
            var mix = SplitMix64(seed: UInt64(user) ^ c.seed)
            let fold = Int(mix.next() % UInt64(folds))
            foldOfQuery.append(fold)
            let rows = query.candidates.count
            var compact = [Float](repeating: 0, count: rows * columns.count)
            for row in 0..<rows {
                for (k, column) in columns.enumerated() { compact[row * columns.count + k] = query.features[row * LearnedBlend.featureCount + column] }
            }
            blendFolds[fold].append(rows: compact, relevant: (0..<rows).map { $0 == target }, initial: [Float](repeating: 0, count: rows))
        }
        var blendAll = RankingExamples(featureCount: columns.count)
        for fold in blendFolds { blendAll.append(fold) }
        let own = Array(0..<columns.count)
        var selection = LearnedBlend.Selection()
        let alone = own.map { column in blendAll.ndcgAt10PerQuery(CoordinateAscent.scores(blendAll, columns: [column], weights: [1])) }
        selection.componentNDCGAt10 = alone.map { $0.reduce(0, +) / Double(max(1, $0.count)) }
        let bestAlone = selection.componentNDCGAt10.indices.max { selection.componentNDCGAt10[$0] < selection.componentNDCGAt10[$1] } ?? 0
        let heldFolds = blendFolds
        let sampled = blendFolds.map { $0.every(max(1, (blendAll.queryCount + c.blendQueries - 1) / c.blendQueries)) }
        let outOfFold = await withTaskGroup(of: (Int, [Double]).self) { group in
            for held in 0..<folds {
                group.addTask {
                    var others = RankingExamples(featureCount: columns.count)
                    for (fold, examples) in sampled.enumerated() where fold != held { others.append(examples) }
                    let (foldWeights, _) = CoordinateAscent.fit(others, columns: own)
                    return (held, heldFolds[held].ndcgAt10PerQuery(CoordinateAscent.scores(heldFolds[held], columns: own, weights: foldWeights)))
                }
            }
            var parts: [(Int, [Double])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        var allSampled = RankingExamples(featureCount: columns.count)
        for fold in sampled { allSampled.append(fold) }
        var (weights, _) = CoordinateAscent.fit(allSampled, columns: own)
        selection.linearOutOfFoldNDCGAt10 = outOfFold.reduce(0, +) / Double(max(1, outOfFold.count))
        // `blendAll` lists the folds in order, as `outOfFold` does. The blend replaces the best model alone
        // only when it ranks better out of fold; the trees must beat the blend on fold 0 by more than two
        // standard errors of the paired difference and by at least 2% (they cost time at every request).
        if !RankingExamples.significantlyBetter(outOfFold, than: alone[bestAlone], z: 0) {
            weights = own.map { $0 == bestAlone ? 1 : 0 }
        }
        linearWeights = weights
        var training = RankingExamples(featureCount: LearnedBlend.featureCount)
        var validation = RankingExamples(featureCount: LearnedBlend.featureCount)
        var validationUsers = Set<Int>()
        for ((user, query, target), fold) in zip(parts, foldOfQuery) {
            let linear = query.linearScores(weights)
            let kept = RankingExamples.order(linear, 0..<linear.count).prefix(c.reRankDepth).sorted()
            guard kept.contains(target) else { continue }
            var rows: [Float] = []
            rows.reserveCapacity(kept.count * LearnedBlend.featureCount)
            for row in kept { rows += query.features[(row * LearnedBlend.featureCount)..<((row + 1) * LearnedBlend.featureCount)] }
            if fold == 0 {
                validationUsers.insert(user)
                validation.append(rows: rows, relevant: kept.map { $0 == target }, initial: kept.map { linear[$0] })
            } else {
                training.append(rows: rows, relevant: kept.map { $0 == target }, initial: kept.map { linear[$0] })
            }
        }
        progress("linear blend: \(LearnedBlend.describe(weights))")
        progress("training LambdaMART on \(training.queryCount) targets, stopping on \(validation.queryCount)")
        let result = await LambdaMART.train(training, heldOut: validation, configuration: c.ranker)
        forest = result.forest
        if forest.treeCount > 0 {
            let withTrees = validation.features.withUnsafeBufferPointer { rows in
                (0..<validation.rowCount).map { validation.initial[$0] + forest.predict(rows.baseAddress! + $0 * LearnedBlend.featureCount) }
            }
            let with = validation.ndcgAt10PerQuery(withTrees)
            let without = validation.ndcgAt10PerQuery(validation.initial)
            let gain = with.reduce(0, +) / max(1e-12, without.reduce(0, +)) - 1
            if !RankingExamples.significantlyBetter(with, than: without) || gain < 0.02 {
                forest.truncate(to: 0)
            }
        }
        selection.linearNDCGAt10 = result.heldOutNDCGAt10[0]
        selection.treesKept = forest.treeCount
        selection.blendedNDCGAt10 = result.heldOutNDCGAt10[forest.treeCount]
        selection.trainingQueries = training.queryCount
        selection.heldOutQueries = validation.queryCount
        selection.heldOutUsers = validationUsers.count
        selection.linearDescription = LearnedBlend.describe(weights)
        self.selection = selection
        // 5. The models again, on everything.
        if heldOutItems * 50 > allItems {
            progress("refitting the models on every history")
            await fitComponents(on: sequences, itemCount: itemCount, progress: progress)
        }
    }

    /// The queries of the users holding out positions (`holding[user]` latest ones), from the models as
    /// fitted now; users split over tasks, each returning its users' queries in order.
    private func queries(_ sequences: [[Int32]], holding: [Int], itemCount: Int) async -> [(user: Int, query: LearnedBlend.Query, target: Int)] {
        let users = sequences.indices.filter { holding[$0] > 0 }
        let fitted = self
        let chunk = max(1, (users.count + configuration.threads - 1) / max(1, configuration.threads))
        return await withTaskGroup(of: (Int, [(user: Int, query: LearnedBlend.Query, target: Int)]).self) { group in
            for start in stride(from: 0, to: users.count, by: chunk) {
                group.addTask {
                    var part: [(user: Int, query: LearnedBlend.Query, target: Int)] = []
                    for user in users[start..<min(start + chunk, users.count)] {
                        let sequence = sequences[user]
                        for p in (sequence.count - holding[user])..<sequence.count {
                            var query = LearnedBlend.Query(fitted, history: Array(sequence[..<p]))
                            query.remove(Set(sequence[(p + 1)...]))
                            guard let target = query.candidates.firstIndex(of: sequence[p]) else { continue }
                            part.append((user, query, target))
                        }
                    }
                    return (start, part)
                }
            }
            var all: [(Int, [(user: Int, query: LearnedBlend.Query, target: Int)])] = []
            for await part in group { all.append(part) }
            return all.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    /// Fits every model, reporting each one's wall seconds to `progress`.
    private mutating func fitComponents(on sequences: [[Int32]], itemCount: Int, progress: (String) -> Void) async {
        var times: [String] = []
        func timed(_ name: String, _ start: ContinuousClock.Instant) { times.append("\(name) \(Float((ContinuousClock.now - start).inSeconds).formatted2)") }
        var start = ContinuousClock.now
        await transitions.fit(sequences: sequences, itemCount: itemCount)
        await successors.fit(sequences: sequences, itemCount: itemCount)
        timed("transitions", start)
        start = ContinuousClock.now
        await slit.fit(sequences: sequences, itemCount: itemCount)
        timed("slit", start)
        start = ContinuousClock.now
        await ease.fit(sequences: sequences, itemCount: itemCount)
        timed("dlae", start)
        start = ContinuousClock.now
        await als.fit(sequences: sequences, itemCount: itemCount)
        timed("als", start)
        start = ContinuousClock.now
        await rp3.fit(sequences: sequences, itemCount: itemCount)
        timed("rp3beta", start)
        // Counted aside and assigned once: `popularity`'s observer ranks every item at each change.
        var users = [Float](repeating: 0, count: itemCount)
        for sequence in sequences { for item in Set(sequence) { users[Int(item)] += 1 } }
        popularity = users
        progress("fit seconds per model: \(times.joined(separator: ", "))")
    }
}

extension LearnedBlend {
    /// A linear blend's weights, readably: `0.40 × dlae + 0.20 × als`.
    static func describe(_ weights: [Float]) -> String {
        zip(Component.allCases, weights).filter { $0.1 > 0 }.map { "\($0.1.formatted2) × \($0.0.name)" }.joined(separator: " + ")
    }
}

extension LearnedBlend.Query {
    /// Drops the given items from the candidates (and their feature rows).
    mutating func remove(_ items: Set<Int32>) {
        guard !items.isEmpty else { return }
        let f = LearnedBlend.featureCount
        var keptCandidates: [Int32] = []
        var keptFeatures: [Float] = []
        for (row, item) in candidates.enumerated() where !items.contains(item) {
            keptCandidates.append(item)
            keptFeatures += features[(row * f)..<((row + 1) * f)]
        }
        candidates = keptCandidates
        features = keptFeatures
    }
}
