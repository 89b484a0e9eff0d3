// SPDX-License-Identifier: Apache-2.0
//
// Items the model does not place earn a collaborative vector between trainings, from the users who
// engage with them: items newer than the model, and items catalogued before it that no training
// history held (the model solved their factors from nothing: zero). Each positive event on such an
// item records its user (the latest `FeedConfiguration.freshEngagersPerItem`); a background task,
// a pass at most every `FeedConfiguration.freshRefitIntervalMilliseconds`, takes the ALS item half-step for
// that one row against those users' vectors, (XᵀX + λI + Σ_u (c−1) x_u x_uᵀ) y = Σ_u c x_u, the step
// training takes for every item (`ALSModel.itemVector`). The users' vectors are folded in from their
// latest positive items, as feeds fold them in (and shared with feeds through the user vector cache).
// XᵀX over all users is not in the model, which carries item-side weights only: it is estimated once
// per model from a sample of this deployment's users (`ALSModel.userGramian`).
//
// The vectors are kept beside the index, not in it: the index publishes a whole copy per write, which
// at a million items costs far more than these rows. A feed scores all of them exactly (at most
// `FeedConfiguration.freshVectorLimit`, O(n · k)) and ignores the index's hits on their metadata
// labels. Beyond the limit, the item refitted longest ago falls back to its metadata vector and its
// engagers are forgotten, so the memory held is bounded by the limit.
//
// What is recorded is derived state: erasing a user removes them and refits the items they engaged
// with; a new model inherits the engagers of the items it does not place either. After a restart the
// lists start empty (the next training learns from the logged events).

import Synchronization

/// The collaborative vectors of items the model does not place, as one immutable snapshot.
final class FreshVectors: Sendable {
    /// Index label of each row: the model index of an item no training history held, else a label beyond
    /// the model's items (see `NewItemLabels`).
    let labels: [Int32]
    /// Row-major, `labels.count` × k.
    let vectors: [Float]
    /// The labels, for excluding the index's hits on their metadata vectors.
    let members: IDSet

    init(labels: [Int32] = [], vectors: [Float] = []) {
        self.labels = labels
        self.vectors = vectors
        members = IDSet(labels)
    }

    var count: Int { labels.count }

    /// The `count` rows with the largest inner product with `query`, none of them in `skip`, best first.
    /// - Complexity: O(n · k).
    func search(_ query: [Float], count: Int, skip: IDSet) -> [HNSWIndex.Neighbor] {
        let k = query.count
        precondition(vectors.count == labels.count * k, "the query must have the vectors' dimensions")
        var top = TopK(count)
        query.withUnsafeBufferPointer { q in
            vectors.withUnsafeBufferPointer { rows in
                for (row, label) in labels.enumerated() where !skip.contains(label) {
                    top.insert(label, score: Kernels.dot(rows.baseAddress! + row * k, q.baseAddress!, k))
                }
            }
        }
        return top.sorted().map { HNSWIndex.Neighbor(id: $0.element, score: $0.score) }
    }
}

/// Which catalogue items the model places, as far as ingestion has asked: the answer for an item never
/// changes for one model, and finding it (a lookup by id among a million) costs far more than a bit.
struct CataloguePlacement {
    /// Catalogue indices asked about.
    var known = IDSet()
    /// Those of them that the model's factors place.
    var placed = IDSet()
}

/// Who engaged with the items the model does not place, and which need a new vector.
struct FreshEngagement {
    /// Item → its latest engagers, oldest first.
    var engagers: [ItemID: [UserID]] = [:]
    /// Items whose engagers changed since their vector was computed.
    var pending: Set<ItemID> = []
    /// Whether a task is refitting.
    var refitting = false
    /// The current vectors, each with the refit sequence number that produced it (for eviction).
    var vectors: [ItemID: (label: Int32, vector: [Float], sequence: UInt64)] = [:]
    var sequence: UInt64 = 0
    /// XᵀX + λI estimated from this deployment's users, once per model.
    var userGramian: Matrix?
    /// How many item vectors were computed.
    var refits = 0
}

extension LearnedRetrieval {
    /// Records positive engagements with items the model does not know.
    /// - Returns: whether the caller must start ``Recommender/refitFreshItems(_:_:)`` (no task is running).
    func noteEngagements(_ pairs: [(item: ItemID, user: UserID)], engagersPerItem: Int) -> Bool {
        fresh.withLock { state in
            for (item, user) in pairs {
                // Changed in place: one lookup, and no copy of the list.
                Self.note(user, in: &state.engagers[item, default: []], limit: engagersPerItem)
                state.pending.insert(item)
            }
            return state.claimRefit()
        }
    }

    /// Moves `user` to the end of `users` (the latest engager), keeping the latest `limit`.
    private static func note(_ user: UserID, in users: inout [UserID], limit: Int) {
        if let existing = users.firstIndex(of: user) { users.remove(at: existing) }
        users.append(user)
        if users.count > limit { users.removeFirst(users.count - limit) }
    }

    /// Forgets an erased user: the items they engaged with are refitted without them, and every other
    /// vector too, with the users' gramian estimated again (the sample may have held their vector).
    /// - Returns: whether the caller must start a refit.
    func forget(_ user: UserID) -> Bool {
        fresh.withLock { state in
            for (item, users) in state.engagers where users.contains(user) {
                let remaining = users.filter { $0 != user }
                state.engagers[item] = remaining.isEmpty ? nil : remaining
                state.pending.insert(item)
            }
            state.pending.formUnion(state.vectors.keys)
            state.userGramian = nil
            return state.claimRefit()
        }
    }

    /// Forgets every engager and vector (an erasure by another server, whose user this one cannot
    /// single out): items fall back to their metadata vectors until new engagements arrive.
    func resetFresh() {
        fresh.withLock { state in
            state.engagers = [:]
            state.pending = []
            state.vectors = [:]
            state.userGramian = nil
        }
        freshVectors.withLock { $0 = FreshVectors() }
    }

    /// Takes over another model's engagers of the items this model does not place either (at a swap).
    /// - Returns: whether the caller must start a refit.
    func inherit(from other: LearnedRetrieval, keeping isFresh: (ItemID) -> Bool) -> Bool {
        let carried = other.fresh.withLock { $0.engagers }.filter { isFresh($0.key) }
        guard !carried.isEmpty else { return false }
        return fresh.withLock { state in
            state.engagers.merge(carried) { mine, _ in mine }
            state.pending.formUnion(carried.keys)
            return state.claimRefit()
        }
    }

    /// The pending items with their engagers, clearing them; `nil` when none is pending, which also ends
    /// the refitting task (atomically, so an engagement noted meanwhile starts a new one).
    func takePending() -> [(item: ItemID, users: [UserID])]? {
        fresh.withLock { state in
            guard !state.pending.isEmpty else {
                state.refitting = false
                return nil
            }
            let batch = state.pending.map { ($0, state.engagers[$0] ?? []) }
            state.pending = []
            return batch
        }
    }

    var userGramian: Matrix? {
        get { fresh.withLock { $0.userGramian } }
        set { fresh.withLock { $0.userGramian = newValue } }
    }

    /// How many items hold a collaborative vector now, and how many were computed since the model served.
    var freshCounts: (held: Int, refits: Int) { fresh.withLock { ($0.vectors.count, $0.refits) } }

    /// Stores new vectors (`nil`: the item has no engagers left and falls back to its metadata vector),
    /// keeps the `limit` most recently refitted, and publishes the snapshot feeds score.
    func publishFresh(_ updates: [(item: ItemID, vector: [Float]?)], modelIndex: [ItemID: Int32], limit: Int) {
        var labels: [Int32] = []
        for update in updates where update.vector != nil { labels.append(freshLabel(for: update.item, modelIndex: modelIndex)) }
        let snapshot = fresh.withLock { state in
            var next = 0
            for (item, vector) in updates {
                guard let vector else {
                    // No engager left with a vector (erased, or with no history the model knows).
                    state.vectors[item] = nil
                    if !state.pending.contains(item) { state.engagers[item] = nil }
                    continue
                }
                state.sequence += 1
                state.vectors[item] = (labels[next], vector, state.sequence)
                next += 1
                state.refits += 1
            }
            if state.vectors.count > limit {
                // The items refitted longest ago fall back to their metadata vectors and forget their
                // engagers, so what is held stays bounded; new engagements start them again.
                let oldest = state.vectors.sorted { $0.value.sequence < $1.value.sequence }.prefix(state.vectors.count - limit)
                for (item, _) in oldest {
                    state.vectors[item] = nil
                    if !state.pending.contains(item) { state.engagers[item] = nil }
                }
            }
            var rows: [Int32] = []
            var flat: [Float] = []
            for entry in state.vectors.values.sorted(by: { $0.label < $1.label }) {
                rows.append(entry.label)
                flat += entry.vector
            }
            return FreshVectors(labels: rows, vectors: flat)
        }
        freshVectors.withLock { $0 = snapshot }
    }

    /// The label of an item: its model index (an item never engaged with before the training), else its
    /// label beyond the model's items, assigning the next one when it has none (an item with no metadata
    /// vector is in the index under no label).
    func freshLabel(for item: ItemID, modelIndex: [ItemID: Int32]) -> Int32 {
        if let row = modelIndex[item] { return row }
        return newItems.withLock { labels in
            if let label = labels.labelOf[item] { return label }
            let label = Int32(modelIndex.count + labels.items.count)
            labels.items.append(item)
            labels.labelOf[item] = label
            return label
        }
    }
}

extension FreshEngagement {
    /// Marks a refit task as running if there is work and none runs; returns whether it did.
    mutating func claimRefit() -> Bool {
        guard !pending.isEmpty, !refitting else { return false }
        refitting = true
        return true
    }
}
