// SPDX-License-Identifier: Apache-2.0
//
// Collaborative vectors for items the serving model does not know, between trainings (see
// `LearnedRetrieval+FreshVectors.swift`): ingestion notes who engaged with them, and one background
// task at a time refits the items whose engagers changed, so neither ingestion nor feeds wait for it.

import Synchronization

extension Recommender {
    /// How many users' vectors estimate XᵀX, the user side's gramian, once per model.
    static let gramianSample = 1_000

    /// Notes the positive events on items the serving model does not place (see ``ServingModel/placesByFactors(_:)``), and starts a refit.
    /// Only an indexed model (a large catalogue) holds such vectors; below the threshold it scores every item.
    /// - Parameter itemIndices: each event's catalogue index, when known: the model's answer for an item
    ///   is then remembered by that index (``LearnedRetrieval/placement``).
    func noteFreshEngagements(_ events: [Event], positive: [Bool], itemIndices: [Int32?] = []) {
        guard let serving = learned.withLock({ $0 }), let retrieval = serving.retrieval else { return }
        var pairs: [(item: ItemID, user: UserID)] = []
        retrieval.placement.withLock { placement in
            // By position: binding each event to a variable would copy it (its strings retained and released).
            for position in events.indices where positive[position] {
                guard let item = events[position].item else { continue }
                guard position < itemIndices.count, let index = itemIndices[position] else {
                    if !serving.placesByFactors(item) { pairs.append((item, events[position].user)) }
                    continue
                }
                if !placement.known.contains(index) {
                    placement.known.insert(index)
                    if serving.placesByFactors(item) { placement.placed.insert(index) }
                }
                if !placement.placed.contains(index) { pairs.append((item, events[position].user)) }
            }
        }
        guard !pairs.isEmpty else { return }
        if retrieval.noteEngagements(pairs, engagersPerItem: configuration.feed.freshEngagersPerItem) {
            Task.detached { await self.refitFreshItems(retrieval, serving) }
        }
    }

    /// Carries the engagers of the items a new model does not know either over from the model it replaces.
    /// Called at a swap, under `writes`, so no event is noted in between.
    func inheritFreshEngagement(_ replacement: ServingModel, from previous: ServingModel?) {
        guard let new = replacement.retrieval, let old = previous?.retrieval else { return }
        if new.inherit(from: old, keeping: { !replacement.placesByFactors($0) }) {
            Task.detached { await self.refitFreshItems(new, replacement) }
        }
    }

    /// Computes the vectors of the pending items until none is pending (see
    /// ``LearnedRetrieval/takePending()``); runs in the background, one task per model at a time. The
    /// first pass starts at once; later ones wait ``FeedConfiguration/freshRefitIntervalMilliseconds``
    /// after the previous, so a popular item is refitted a few times a second at most, and publishing
    /// the vectors (a copy of all of them) stays rare, whatever the event rate.
    /// - Complexity: per item, O(steps · (k² + n · k)) for n engagers, plus one fold-in per engager
    ///   whose vector is not cached.
    func refitFreshItems(_ retrieval: LearnedRetrieval, _ serving: ServingModel) async {
        let als = serving.learned.model.als
        let version = serving.learned.version
        var first = true
        while true {
            if !first { try? await Task.sleep(for: .milliseconds(configuration.feed.freshRefitIntervalMilliseconds)) }
            first = false
            guard let batch = retrieval.takePending() else { return }
            let gramian = retrieval.userGramian ?? estimateUserGramian(serving)
            retrieval.userGramian = gramian
            let now = clock.now().milliseconds
            var users = Set<UserID>()
            for entry in batch { users.formUnion(entry.users) }
            let generation = userVectors.withLock { $0.generation }
            // In chunks, so feeds wait for the state lock at most one chunk's time.
            var histories: [(UserID, [Int32])] = []
            let all = Array(users)
            for start in stride(from: 0, to: all.count, by: 256) {
                histories += state.withLock { state in
                    all[start..<min(all.count, start + 256)].map { user in (user, state.recentPositiveItems(of: user).compactMap { serving.index[$0] }) }
                }
            }
            var vectors: [UserID: [Float]] = [:]
            for (user, history) in histories where !history.isEmpty {
                if let cached = userVectors.withLock({ $0.vector(for: user, modelVersion: version, history: history, now: now) }) {
                    vectors[user] = cached
                    continue
                }
                let vector = als.userVector(history: history)
                vectors[user] = vector
                userVectors.withLock {
                    $0.store(
                        vector, for: user, modelVersion: version, history: history, now: now,
                        expiry: configuration.feed.userVectorExpiryMilliseconds, readAt: generation)
                }
            }
            let updates = batch.map { entry -> (item: ItemID, vector: [Float]?) in
                let rows = entry.users.compactMap { vectors[$0] }
                return (entry.item, rows.isEmpty ? nil : als.itemVector(engagers: rows, userGramian: gramian))
            }
            retrieval.publishFresh(updates, modelIndex: serving.index, limit: configuration.feed.freshVectorLimit)
        }
    }

    /// XᵀX + λI over this deployment's users, from the vectors of a sample of them (their latest
    /// positive items folded in; a user with none the model knows counts as a zero vector, as training
    /// solves such a user to zero). - Complexity: O(s · steps · k²) for s = ``gramianSample``.
    func estimateUserGramian(_ serving: ServingModel) -> Matrix {
        let (histories, population) = state.withLock { state in
            (state.users.prefix(Self.gramianSample).map { user, _ in state.recentPositiveItems(of: user).compactMap { serving.index[$0] } }, state.users.count)
        }
        let als = serving.learned.model.als
        let sample = histories.map { $0.isEmpty ? [Float](repeating: 0, count: als.configuration.factors) : als.userVector(history: $0) }
        return als.userGramian(sample: sample, population: population)
    }
}

extension ServingModel {
    /// Whether the model's own factors place an item: it is in the model and was in at least one
    /// training history. An item catalogued before the training but never engaged with is in the model
    /// with factors solved from no observation (zero): like an item newer than the model, it earns a
    /// collaborative vector from its first engagers.
    func placesByFactors(_ item: ItemID) -> Bool {
        guard let row = index[item] else { return false }
        return learned.model.transitions.popularity[Int(row)] > 0
    }
}
