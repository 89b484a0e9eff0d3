// SPDX-License-Identifier: Apache-2.0
//
// The candidate sources of the rule-based feed. Each source scores the items it proposes on its own
// scale; `FeedAssembly` normalises each source by its best candidate, weights it, adds the user's
// affinity and picks the reason from the largest weighted part.
//
// Sources: co-visitation with the user's latest positive items, new items from followed creators,
// popular items in the user's favourite tags, global trending, and global popularity as a fallback.
// Exploration of fresh items is chosen separately (see FeedAssembly).

/// One item proposed for a feed, with what each source said about it.
struct Candidate {
    var coVisitation: Float = 0
    /// The recent item that contributed most to `coVisitation`.
    var coVisitationSource: Int32 = -1
    var coVisitationBest: Float = 0
    var followedCreator: Float = 0
    var favouriteTag: Float = 0
    var favouriteTagIndex: Int32 = -1
    var trending: Float = 0
    var popular: Float = 0
}

/// What a user may be shown now: not blocked, not seen within the no-repeat window, already published.
struct Eligibility {
    let user: UserState
    let catalog: CatalogIndex
    let now: Int64
    let window: Int64

    func allows(_ item: Int32) -> Bool {
        let i = Int(item)
        return !user.blockedItems.contains(item) && !user.blockedCreators.contains(catalog.creatorOfItem[i])
            && !user.hasSeen(item, now: now, window: window) && catalog.items[i].publishedAt.milliseconds <= now
    }
}

extension EngineState {
    /// Items co-visited with the user's latest positive items, newest sources counting most.
    func coVisitationCandidates(_ user: UserState, _ eligible: Eligibility, into candidates: inout [Int32: Candidate]) {
        var recency: Float = 1
        for positive in user.recent.reversed() {
            defer { recency *= 0.9 }
            guard let row = engagement.coVisitation[positive.item] else { continue }
            let sourcePopularity = engagement.popularity[Int(positive.item)] + 1
            let sourceWeight = positive.weight * recency
            for (item, weight) in row where eligible.allows(item) {
                let normaliser = (sourcePopularity * (engagement.popularity[Int(item)] + 1)).squareRoot()
                let score = sourceWeight * weight / normaliser
                var candidate = candidates[item, default: Candidate()]
                candidate.coVisitation += score
                if score > candidate.coVisitationBest {
                    candidate.coVisitationBest = score
                    candidate.coVisitationSource = positive.item
                }
                candidates[item] = candidate
            }
        }
    }

    /// The newest items of each followed creator, fresher scoring higher (two-day time scale).
    func followedCreatorCandidates(_ user: UserState, _ eligible: Eligibility, into candidates: inout [Int32: Candidate]) {
        for creator in user.followedCreators where Int(creator) < catalog.itemsByCreator.count {
            for item in catalog.itemsByCreator[Int(creator)].suffix(20) where eligible.allows(item) {
                let age = Double(max(0, eligible.now - catalog.items[Int(item)].publishedAt.milliseconds))
                let freshness = Float(exponential(-age / Double(2 * Timestamp.day)))
                candidates[item, default: Candidate()].followedCreator = max(0.05, freshness)
            }
        }
    }

    /// Popular and trending items in the user's three favourite tags, in proportion to the affinity.
    func favouriteTagCandidates(_ user: UserState, _ eligible: Eligibility, into candidates: inout [Int32: Candidate]) {
        let favourites = user.tagAffinity.filter { $0.value > 0 }.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(3)
        guard let strongest = favourites.first?.value, strongest > 0 else { return }
        let maximumPopularity = max(engagement.popularity.max() ?? 0, 1)
        for (tag, affinity) in favourites {
            var top = TopK(30)
            for item in catalog.itemsByTag[Int(tag)] where eligible.allows(item) {
                let quality = 0.5 * engagement.normalizedTrending(item) + 0.5 * engagement.popularity[Int(item)] / maximumPopularity
                top.insert(item, score: (affinity / strongest) * (0.2 + quality))
            }
            for (item, score) in top.sorted() {
                var candidate = candidates[item, default: Candidate()]
                if score > candidate.favouriteTag {
                    candidate.favouriteTag = score
                    candidate.favouriteTagIndex = tag
                }
                candidates[item] = candidate
            }
        }
    }

    /// The globally trending items, and the most popular ones as a fallback.
    func globalCandidates(_ eligible: Eligibility, count: Int, into candidates: inout [Int32: Candidate]) {
        var trending = TopK(max(50, count))
        var popular = TopK(count * 2)
        for index in 0..<Int32(catalog.count) where eligible.allows(index) {
            let value = engagement.normalizedTrending(index)
            if value > 0 { trending.insert(index, score: value) }
            popular.insert(index, score: engagement.popularity[Int(index)])
        }
        for (item, score) in trending.sorted() { candidates[item, default: Candidate()].trending = score }
        for (item, score) in popular.sorted() { candidates[item, default: Candidate()].popular = score + 1 }
    }

    /// Fresh items (published within the fresh window) with the least exposure so far.
    func explorationCandidates(_ eligible: Eligibility, count: Int, freshWindow: Int64, where include: (Int32) -> Bool) -> [Int32] {
        var least = TopK(count)
        for index in 0..<Int32(catalog.count) where eligible.allows(index) && include(index) {
            let age = eligible.now - catalog.items[Int(index)].publishedAt.milliseconds
            guard age <= freshWindow else { continue }
            least.insert(index, score: -Float(engagement.exposure[Int(index)]))
        }
        return least.sorted().map(\.element)
    }
}
