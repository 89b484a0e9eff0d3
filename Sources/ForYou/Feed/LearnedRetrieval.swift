// SPDX-License-Identifier: Apache-2.0
//
// The trained model's best items for a user without scoring the whole catalogue, for catalogues too
// large to score per request. The blend has two halves (see `BlendModel`):
// - ALS: the user's vector, folded in from their latest positive items, searched in an HNSW index of
//   the item factors (maximum inner product), excluding what the user has seen;
// - item transitions: the rows of the user's latest items, which are sparse.
// The two candidate sets are joined and mixed as `BlendModel` mixes full score vectors: each half is
// scaled by its best value over every item, then weighted. The best ALS value is the larger of the
// index's first hit and the skipped items' scores, exact whenever the index finds the true best item
// (tested against scoring every item); items neither half proposes are left out, as they would rank
// below both halves' candidates anyway. Cost: one fold-in (O(steps · k²)) and one search
// (O(ef · M · log N) inner products) instead of N inner products. Items newer than the model are in
// the index too, under metadata vectors (LearnedRetrieval+NewItems.swift); those that users engaged
// with since have collaborative vectors beside it, scored exactly (LearnedRetrieval+FreshVectors.swift).

import Synchronization

/// An HNSW index over a trained model's item factors, built when the model is loaded or trained.
final class LearnedRetrieval: Sendable {
    let index: LiveHNSWIndex
    /// The items most often in training histories, most first, with that count: what the transition
    /// half falls back to when the user's latest items have no known followers (as its full scoring does).
    var popular: [(item: Int32, count: Float)] { popularSlot.withLock { $0 } }
    /// Replaced when an erased user is unlearned (the counts change).
    private let popularSlot: Mutex<[(item: Int32, count: Float)]>
    /// Catalogue items indexed beyond the model's own, by their metadata vectors.
    let newItems = Mutex(NewItemLabels())
    /// Whether a task is computing new items' vectors.
    let covering = Mutex(false)
    /// Who engaged with the items the model does not know (LearnedRetrieval+FreshVectors.swift).
    let fresh = Mutex(FreshEngagement())
    /// Their collaborative vectors, scored exactly beside the index.
    let freshVectors = Mutex(FreshVectors())
    /// Which catalogue items the model places, found as events name them.
    let placement = Mutex(CataloguePlacement())

    /// Indexes the model's ALS item factors. - Complexity: O(N · efConstruction · M · log N) inner products.
    init(_ model: BlendModel, configuration: HNSWIndex.Configuration = HNSWIndex.Configuration()) throws {
        index = LiveHNSWIndex(try HNSWIndex.build(model.als.itemFactors, configuration: configuration))
        popularSlot = Mutex(Self.popular(of: model))
    }

    private static func popular(of model: BlendModel) -> [(item: Int32, count: Float)] {
        var top = TopK(Self.popularDepth)
        for (item, count) in model.transitions.popularity.enumerated() { top.insert(Int32(item), score: count) }
        return top.sorted().map { ($0.element, $0.score) }
    }

    /// Takes an unlearned model's changes (Unlearning.swift): the refitted items' factors replace theirs
    /// in the index (removed, repaired around, inserted again, published at once) and the popular items
    /// are counted again. - Complexity: one copy of the index plus the repair and the inserts.
    func adopt(_ model: BlendModel, changedRows: [Int32]) throws {
        let k = model.als.itemFactors.columns
        let rows = changedRows.filter { index.snapshot.contains($0) }
        if !rows.isEmpty {
            try index.update { index in
                for row in rows { try index.remove(row) }
                index.repair()
                for row in rows {
                    try index.insert(Array(model.als.itemFactors.storage[(Int(row) * k)..<(Int(row) * k + k)]), id: row)
                }
            }
        }
        popularSlot.withLock { $0 = Self.popular(of: model) }
    }

    /// How many popular items the fallback keeps.
    static let popularDepth = 500

    /// The blend's `count` best items for a history, none of them in `excluded` (model indices) or in
    /// the history, best first; each with the score `BlendModel` gives it (up to its 1e-6 popularity
    /// tie-break). Candidates are the ALS half's best items from the index and the transition half's
    /// followers (or its popular items when there are none); each is scored by both halves.
    /// - Parameter userVector: the user's ALS vector for `history` (``ALSModel/userVector(history:)``).
    func recommend(
        _ model: BlendModel, history: [Int32], userVector: [Float], excluded: consuming IDSet, count: Int
    ) -> [(item: Int32, score: Float)] {
        // Taken over, not copied: the bitmap spans the catalogue (125 KB at a million items).
        var skip = excluded
        for item in history { skip.insert(item) }
        if let stage = model.reRanker { return reRank(stage, history: history, userVector: userVector, skip: skip, count: count) }
        let weight = model.transitionsWeight
        // The transition half, scaled to a maximum of 1 over every item.
        var transitions = weight > 0 ? model.transitions.followers(of: history) : [:]
        let popular = self.popular  // one read of the slot
        if weight > 0, transitions.isEmpty, let most = popular.first?.count, most > 0 {
            // No known followers: its scores are its popularity tie-break alone, which the blend scales to 1.
            var taken = 0
            for (item, occurrences) in popular where !skip.contains(item) && taken < count {
                transitions[item] = occurrences / most
                taken += 1
            }
        }
        var candidates = Set(transitions.keys.filter { !skip.contains($0) })
        let factors = model.als.itemFactors
        var alsScale: Float = 0
        // Items newer than the model have no factors, and items with a collaborative vector (see
        // LearnedRetrieval+FreshVectors.swift) are not placed by theirs: their score is the search's.
        var newItemScores: [Int32: Float] = [:]
        if weight < 1, var neighbours = try? index.search(userVector, count: count, ef: max(64, 2 * count), filter: skip.excluded) {
            // An item with a collaborative vector is scored by it, not by its metadata vector in the index.
            let fresh = freshVectors.withLock { $0 }
            if fresh.count > 0 {
                let hits = fresh.search(userVector, count: count, skip: skip)
                neighbours = (neighbours.filter { !fresh.members.contains($0.id) } + hits).sorted { $0.score > $1.score }
            }
            candidates.formUnion(neighbours.map(\.id))
            for neighbour in neighbours where Int(neighbour.id) >= factors.rows || fresh.members.contains(neighbour.id) {
                newItemScores[neighbour.id] = neighbour.score
            }
            // `BlendModel` scales by the best score over every item, the skipped ones included: the
            // excluded items and the history (history items are model items).
            var best = neighbours.first?.score ?? 0
            for dot in Self.dots(skip.members(below: factors.rows), factors, userVector) { best = max(best, dot) }
            alsScale = best > 0 ? (1 - weight) / best : 0
        }
        let scored = Array(candidates)
        let modelItems = scored.filter { newItemScores[$0] == nil && Int($0) < factors.rows }
        var dots = Self.dots(modelItems, factors, userVector).makeIterator()
        var top = TopK(count)
        for item in scored {
            let dot = newItemScores[item] ?? (Int(item) < factors.rows ? dots.next()! : 0)
            let als = alsScale * dot
            top.insert(item, score: weight * (transitions[item] ?? 0) + als)
        }
        return top.sorted().map { ($0.element, $0.score) }
    }

    /// The re-ranking stage's `count` best items: the index's (and the fresh vectors') best ALS items
    /// are that model's candidates, beside the stage's other models' candidates; none is in `skip`.
    /// - Complexity: one search, plus the stage's query (LearnedBlend+Features.swift).
    private func reRank(_ stage: LearnedBlendModel, history: [Int32], userVector: [Float], skip: IDSet, count: Int) -> [(item: Int32, score: Float)] {
        let depth = stage.configuration.candidatesPerModel
        var hits = (try? index.search(userVector, count: depth, ef: max(64, 2 * depth), filter: skip.excluded)) ?? []
        let fresh = freshVectors.withLock { $0 }
        if fresh.count > 0 {
            hits = (hits.filter { !fresh.members.contains($0.id) } + fresh.search(userVector, count: depth, skip: skip)).sorted { $0.score > $1.score }
        }
        let candidates = LearnedBlend.ALSCandidates(userVector: userVector, hits: hits.map { ($0.id, $0.score) })
        let query = LearnedBlend.Query(stage, history: history, excluded: skip, als: candidates)
        var top = TopK(count)
        for (item, score) in query.rank(stage) { top.insert(item, score: score) }
        return top.sorted().map { ($0.element, $0.score) }
    }

    /// The inner product of `user` with each item's row of `factors`, in order; the rows are read ahead
    /// (see CacheWarming.swift), each being a likely cache miss at a million items.
    /// - Precondition: every item is a row of `factors`.
    static func dots(_ items: [Int32], _ factors: Matrix, _ user: [Float]) -> [Float] {
        let k = factors.columns
        return user.withUnsafeBufferPointer { user in
            factors.storage.withUnsafeBufferPointer { rows in
                CacheWarming.warmRows(items, of: rows.baseAddress!, columns: k)
                return items.map { Kernels.dot(rows.baseAddress! + Int($0) * k, user.baseAddress!, k) }
            }
        }
    }
}
