// SPDX-License-Identifier: Apache-2.0
//
// The re-ranker's candidates and features for one history (see LearnedBlendModel.swift). Features,
// in this order (`LearnedBlend.featureNames`):
//   for each model m (Component, in declaration order):
//     m_score  (s − s_last) / (s_first − s_last), s_first and s_last the scores of the first and last
//              item of m's list of its best unseen candidates; 0 when they are equal; clipped to ±5
//     m_rank   log(1 + the item's 0-based position in m's list), log(1 + candidatesPerModel) when absent
//   popularity  log(1 + users of the item)
//   history     log(1 + the history's length)
// Models whose scores are sparse (the transitions, RP3beta) list only items they score above 0.
// Normalising within the query makes the features mean the same whatever a model's scale, which
// changes with the data the model was fitted on (training fits on shorter histories than serving).

/// The parts of the learned blend shared by training and scoring.
public enum LearnedBlend {
    /// The retrieval models whose scores the re-ranker reads.
    public enum Component: Int, CaseIterable, Sendable {
        case transitions, latestTransitions, previousTransitions, slit, ease, recentEase, als, rp3

        public var name: String {
            switch self {
            case .transitions: "transitions"
            case .latestTransitions: "next_after_latest"
            case .previousTransitions: "next_after_previous"
            case .slit: "slit"
            case .ease: "dlae"
            case .recentEase: "recent_dlae"
            case .als: "als"
            case .rp3: "rp3beta"
            }
        }

        /// Whether the model scores most items 0 (then it lists only the items it scores above 0).
        var isSparse: Bool { self == .transitions || self == .latestTransitions || self == .previousTransitions || self == .rp3 }
    }

    /// Catalogues up to this size score RP3beta into a dense array per query (faster than a dictionary).
    static let denseScoringLimit = 200_000

    /// Each earlier item of a history counts this much less in `recentEase`.
    static let recencyDecay: Float = 0.8

    /// Features per candidate.
    public static let featureCount = Component.allCases.count * perComponent + 2
    /// Features per model: its normalised score, its rank, its raw score.
    static let perComponent = 3

    /// The features' names, in order.
    public static let featureNames: [String] = Component.allCases.flatMap { ["\($0.name)_score", "\($0.name)_rank", "\($0.name)_raw"] } + ["popularity", "history"]

    /// One model's view of a history: its best unseen candidates, best first, and its raw score of any
    /// item (0 for items it knows nothing of).
    struct ComponentScores {
        var list: [(element: Int32, score: Float)] = []
        /// Scores by catalogue index (dense), or by item (sparse, absent: 0).
        var dense: [Float] = []
        var sparse: [Int32: Float] = [:]

        func value(of item: Int32) -> Float {
            if !dense.isEmpty { return Int(item) < dense.count ? dense[Int(item)] : 0 }
            return sparse[item] ?? 0
        }

        /// The best `count` unseen entries of sparse scores above 0.
        static func sparse(_ scores: [Int32: Float], excluding seen: IDSet, count: Int) -> ComponentScores {
            var top = TopK(count)
            for (item, value) in scores where value > 0 && !seen.contains(item) { top.insert(item, score: value) }
            return ComponentScores(list: top.sorted(), sparse: scores)
        }

        /// The best `count` unseen entries of dense scores over the given items (all, when `items` is nil),
        /// with `positiveOnly` only those above 0.
        static func dense(_ scores: [Float], over items: [Int32]?, excluding seen: IDSet, count: Int, positiveOnly: Bool = false) -> ComponentScores {
            var top = TopK(count)
            if let items {
                for item in items where !seen.contains(item) { top.insert(item, score: finite(scores[Int(item)])) }
            } else {
                for (index, value) in scores.enumerated() where !(positiveOnly && !(value > 0)) && !seen.contains(Int32(index)) {
                    top.insert(Int32(index), score: finite(value))
                }
            }
            return ComponentScores(list: top.sorted(), dense: scores)
        }

        private static func finite(_ value: Float) -> Float { value.isFinite ? value : -.greatestFiniteMagnitude }
    }

    /// Where the ALS model's candidates come from: every item scored (offline, small catalogues), or a
    /// search the caller ran (the live feed's index), with the user's vector to score the others.
    struct ALSCandidates {
        var userVector: [Float]
        /// The search's hits (items and scores), best first; `nil`: score every item.
        var hits: [(element: Int32, score: Float)]?
    }

    /// The candidates of one history and their features.
    struct Query {
        /// Candidate items, ascending.
        var candidates: [Int32] = []
        /// Row-major, `candidates.count` × `featureCount`.
        var features: [Float] = []

        /// Asks every model for its best unseen items, takes the union and computes the features.
        /// - Parameters:
        ///   - excluded: items the user may not be shown, beside the history (the live feed's seen items).
        ///   - als: the ALS model's candidates; `nil`: fold the history in and score every item.
        /// - Complexity: O(N · k) to score every item with ALS (or one search), plus the sparse models'
        ///   rows of the history and O(M) for the dense models over their M modelled items.
        init(_ model: LearnedBlendModel, history: [Int32], excluded: IDSet = IDSet(), als: ALSCandidates? = nil) {
            var seen = excluded
            for item in history { seen.insert(item) }
            let count = model.configuration.candidatesPerModel
            let itemCount = model.popularity.count
            var components: [ComponentScores] = []
            var alsVector: [Float] = []
            for component in Component.allCases {
                switch component {
                case .transitions:
                    components.append(.sparse(model.transitions.followers(of: history, scaled: false), excluding: seen, count: count))
                case .latestTransitions, .previousTransitions:
                    let back = component == .latestTransitions ? 1 : 2
                    let scores = history.count >= back ? model.successors.followers(of: [history[history.count - back]], scaled: false) : [:]
                    components.append(.sparse(scores, excluding: seen, count: count))
                case .slit, .ease, .recentEase:
                    var scores = [Float](repeating: 0, count: itemCount)
                    model.score(component, history: history, into: &scores)
                    let modelled = component == .slit ? model.slit.matrix.modelled : model.ease.matrix.modelled
                    components.append(.dense(scores, over: modelled, excluding: seen, count: count))
                case .als:
                    guard !history.isEmpty || als != nil else {
                        components.append(ComponentScores())
                        continue
                    }
                    alsVector = als?.userVector ?? model.als.userVector(history: history)
                    if let hits = als?.hits {
                        var found = ComponentScores(list: [], sparse: [:])
                        for hit in hits where !seen.contains(hit.element) && found.list.count < count {
                            found.list.append(hit)
                            found.sparse[hit.element] = hit.score
                        }
                        components.append(found)
                    } else {
                        components.append(.dense(model.als.scores(userVector: alsVector), over: nil, excluding: seen, count: count))
                    }
                case .rp3:
                    // Dense on catalogues small enough to hold a score per item per query; sparse beyond.
                    if itemCount <= LearnedBlend.denseScoringLimit {
                        var scores = [Float](repeating: 0, count: itemCount)
                        model.rp3.score(history: history, into: &scores)
                        components.append(.dense(scores, over: nil, excluding: seen, count: count, positiveOnly: true))
                    } else {
                        components.append(.sparse(model.rp3.scores(of: history), excluding: seen, count: count))
                    }
                }
            }
            var union = Set<Int32>()
            var taken = 0
            for item in model.popularOrder where !seen.contains(item) {
                union.insert(item)
                taken += 1
                if taken == count { break }
            }
            for component in components { for entry in component.list { union.insert(entry.element) } }
            candidates = union.sorted()
            // The ALS scores of candidates the search did not return (when it ran): one dot product each.
            let als = Component.als.rawValue
            if components[als].dense.isEmpty, !alsVector.isEmpty {
                let missing = candidates.filter { components[als].sparse[$0] == nil && Int($0) < model.als.itemFactors.rows }
                for (item, dot) in zip(missing, LearnedRetrieval.dots(missing, model.als.itemFactors, alsVector)) { components[als].sparse[item] = dot }
            }
            let absent = Float(logarithm(1 + Double(count)))
            let historyFeature = Float(logarithm(1 + Double(history.count)))
            features = [Float](repeating: 0, count: candidates.count * featureCount)
            var position = [Int32: Int](minimumCapacity: candidates.count)
            for (row, item) in candidates.enumerated() { position[item] = row }
            for (c, component) in components.enumerated() {
                let first = component.list.first?.score ?? 0
                let last = component.list.last?.score ?? 0
                var rank = [Float](repeating: absent, count: candidates.count)
                for (r, entry) in component.list.enumerated() { rank[position[entry.element]!] = Float(logarithm(1 + Double(r))) }
                for (row, item) in candidates.enumerated() {
                    var value = component.value(of: item)
                    if !value.isFinite { value = 0 }
                    var normalised: Float = 0
                    if first > last { normalised = min(5, max(-5, (value - last) / (first - last))) }
                    features[row * featureCount + perComponent * c] = normalised
                    features[row * featureCount + perComponent * c + 1] = rank[row]
                    features[row * featureCount + perComponent * c + 2] = value
                }
            }
            for (row, item) in candidates.enumerated() {
                let users = Int(item) < itemCount ? Double(model.popularity[Int(item)]) : 0
                features[row * featureCount + featureCount - 2] = Float(logarithm(1 + users))
                features[row * featureCount + featureCount - 1] = historyFeature
            }
        }

        /// The linear blend's score of each candidate.
        func linearScores(_ weights: [Float]) -> [Float] {
            (0..<candidates.count).map { row in
                var sum: Float = 0
                for c in weights.indices where weights[c] != 0 { sum += weights[c] * features[row * featureCount + perComponent * c] }
                return sum
            }
        }

        /// Every candidate with its final score: the linear blend's, plus the forest's for the blend's best
        /// `reRankDepth` candidates (the others keep the blend's order, below them).
        func rank(_ model: LearnedBlendModel) -> [(item: Int32, score: Float)] {
            let linear = linearScores(model.linearWeights)
            guard model.forest.treeCount > 0 else { return zip(candidates, linear).map { ($0, $1) } }
            let order = RankingExamples.order(linear, 0..<linear.count)
            let depth = min(model.configuration.reRankDepth, order.count)
            var scores = linear
            let floor = depth < order.count ? linear[order[depth - 1]] : 0
            features.withUnsafeBufferPointer { rows in
                for row in order.prefix(depth) { scores[row] = linear[row] + model.forest.predict(rows.baseAddress! + row * featureCount) }
            }
            // Below the re-ranked candidates, whatever the forest gave them.
            if depth < order.count {
                let lowest = order.prefix(depth).map { scores[$0] }.min() ?? floor
                for row in order.dropFirst(depth) { scores[row] = lowest - 1 - (floor - linear[row]) }
            }
            return zip(candidates, scores).map { ($0, $1) }
        }
    }
}

extension LearnedBlendModel {
    /// One dense model's score of every catalogue item for a history (SLIT, DLAE, recency-weighted DLAE).
    func score(_ component: LearnedBlend.Component, history: [Int32], into scores: inout [Float]) {
        switch component {
        case .slit: slit.score(history: history, into: &scores)
        case .ease: ease.score(history: history, into: &scores)
        case .recentEase:
            var seen = Set<Int32>()
            var weighted: [(item: Int32, weight: Float)] = []
            var weight: Float = 1
            for item in history.reversed() where seen.insert(item).inserted {
                weighted.append((item, weight))
                weight *= LearnedBlend.recencyDecay
            }
            ease.score(weighted: weighted, into: &scores)
        case .transitions, .latestTransitions, .previousTransitions, .als, .rp3:
            preconditionFailure("\(component.name) is scored sparsely, in LearnedBlend.Query")
        }
    }
}
