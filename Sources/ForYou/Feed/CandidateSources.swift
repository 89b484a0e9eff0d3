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
    /// The trained model's score, scaled to 0...1 by the best of the model's top items for this user.
    var learned: Float = 0
}

/// What a user may be shown now: not blocked, not filtered by a keyword, not seen within the no-repeat
/// window, already published.
struct Eligibility {
    let user: UserState
    let catalog: CatalogIndex
    let now: Int64
    let window: Int64
    /// The user's keyword filters, lowercased.
    var keywords: [String] = []

    func allows(_ item: Int32) -> Bool {
        let i = Int(item)
        if catalog.publishedAtOfItem[i] > now { return false }
        if !user.blockedItems.isEmpty && user.blockedItems.contains(item) { return false }
        if !user.blockedCreators.isEmpty && user.blockedCreators.contains(catalog.creatorOfItem[i]) { return false }
        if !keywords.isEmpty && catalog.matches(item, anyOf: keywords) { return false }
        return !user.hasSeen(item, now: now, window: window)
    }
}

extension CatalogIndex {
    /// Whether the item's tags or creator contain any of the (lowercased) keywords.
    func matches(_ item: Int32, anyOf keywords: [String]) -> Bool {
        let i = Int(item)
        let creator = items[i].creator.rawValue.lowercased()
        for keyword in keywords {
            if creator.contains(keyword) { return true }
            for tag in tagsOfItem[i] where tags[Int(tag)].lowercased().contains(keyword) { return true }
        }
        return false
    }
}

extension EngineState {
    /// Items co-visited with the user's latest positive items, newest sources counting most: the
    /// `coVisitationPerSource` best of each source item (a popular item is co-visited with thousands).
    func coVisitationCandidates(_ user: UserState, _ eligible: Eligibility, into candidates: inout [Int32: Candidate]) {
        var recency: Float = 1
        // A row's neighbours are read in chunks: the popularity and publication time of a chunk's
        // neighbours that may still enter the list are read ahead (CacheWarming.swift), then the chunk
        // is scored.
        var chunk: [(item: Int32, weight: Float)] = []
        chunk.reserveCapacity(Self.coVisitationChunk)
        for positive in user.recent.reversed() {
            defer { recency *= 0.9 }
            let row = engagement.coVisitation(of: positive.item)
            guard !row.isEmpty else { continue }
            let sourcePopularity = engagement.popularity[Int(positive.item)] + 1
            let sourceWeight = positive.weight * recency
            var best = TopK(Self.coVisitationPerSource)
            // A neighbour's popularity is at least 0, so its score is at most `weight · bound`: once the
            // list is full, most of a popular item's thousands of neighbours are passed over without
            // reading their popularity (a cache miss each).
            let bound = sourceWeight / sourcePopularity.squareRoot() * 1.000_1  // slack for rounding
            var neighbours = row.makeIterator()
            var more = true
            while more {
                chunk.removeAll(keepingCapacity: true)
                var warmth: UInt64 = 0
                while chunk.count < Self.coVisitationChunk {
                    guard let (item, weight) = neighbours.next() else {
                        more = false
                        break
                    }
                    if best.isFull && weight * bound < best.weakestScore { continue }
                    warmth &+= UInt64(engagement.popularity[Int(item)].bitPattern) &+ UInt64(bitPattern: catalog.publishedAtOfItem[Int(item)])
                    chunk.append((item, weight))
                }
                CacheWarming.keep(warmth)
                for (item, weight) in chunk {
                    if best.isFull && weight * bound < best.weakestScore { continue }
                    let normaliser = (sourcePopularity * (engagement.popularity[Int(item)] + 1)).squareRoot()
                    let score = sourceWeight * weight / normaliser
                    if best.isFull && score < best.weakestScore { continue }
                    if eligible.allows(item) { best.insert(item, score: score) }
                }
            }
            for (item, score) in best.sorted() {
                candidates[item, default: Candidate()].coVisitation += score
                if score > candidates[item]!.coVisitationBest {
                    candidates[item]!.coVisitationBest = score
                    candidates[item]!.coVisitationSource = positive.item
                }
            }
        }
    }

    /// The newest items (at most two weeks old) of each followed creator, fresher scoring higher.
    func followedCreatorCandidates(_ user: UserState, _ eligible: Eligibility, into candidates: inout [Int32: Candidate]) {
        let horizon = Double(14 * Timestamp.day)
        for creator in user.followedCreators where Int(creator) < catalog.itemsByCreator.count {
            var newest = TopK(20)
            for item in catalog.itemsByCreator[Int(creator)] {
                let age = Double(eligible.now - catalog.items[Int(item)].publishedAt.milliseconds)
                if age >= 0 && age <= horizon && eligible.allows(item) { newest.insert(item, score: Float(-age / Double(Timestamp.hour))) }
            }
            for (item, negativeHours) in newest.sorted() {
                // Two-day time scale: a new item scores 1, a week-old one 0.03.
                candidates[item, default: Candidate()].followedCreator = Float(exponential(Double(negativeHours) / 48))
            }
        }
    }

    /// Popular and trending items in the user's three favourite tags, in proportion to the affinity.
    /// Topics the user asked for more of join the favourites at the strongest affinity. Each tag's
    /// leading items (see `GlobalRankings`) are ranked, not all of its items.
    func favouriteTagCandidates(
        _ user: UserState, _ eligible: Eligibility, moreOf: [Int32] = [], into candidates: inout [Int32: Candidate]
    ) {
        var favourites = TopK(3)
        for (tag, affinity) in user.tagAffinity where affinity > 0 { favourites.insert(tag, score: affinity) }
        var ranked = favourites.sorted()
        if !moreOf.isEmpty {
            let strongest = ranked.first?.score ?? 1
            ranked = moreOf.sorted().map { (element: $0, score: strongest) } + ranked.filter { !moreOf.contains($0.element) }
        }
        guard let strongest = ranked.first?.score, strongest > 0 else { return }
        let maximumPopularity = max(rankings.popular.first.map { engagement.popularity[Int($0)] } ?? 0, 1)
        for (tag, affinity) in ranked {
            var top = TopK(30)
            for item in rankings.leading(inTag: tag) where eligible.allows(item) {
                let quality = 0.5 * engagement.normalizedTrending(item) + 0.5 * engagement.popularity[Int(item)] / maximumPopularity
                top.insert(item, score: (affinity / strongest) * (0.2 + quality))
            }
            for (item, score) in top.sorted() where score > candidates[item]?.favouriteTag ?? 0 {
                candidates[item, default: Candidate()].favouriteTag = score
                candidates[item]!.favouriteTagIndex = tag
            }
        }
    }

    /// The trained model's top items for this user (already ranked outside the state lock).
    func learnedCandidates(_ learned: [(item: ItemID, score: Float)], _ eligible: Eligibility, into candidates: inout [Int32: Candidate]) {
        let maximum = learned.map(\.score).max() ?? 0
        guard maximum > 0 else { return }
        for (id, score) in learned where score > 0 {
            guard let item = catalog.itemIndex[id], eligible.allows(item) else { continue }
            candidates[item, default: Candidate()].learned = score / maximum
        }
    }

    /// The most trending items, and the most popular ones as a fallback, that the user may see; at most
    /// three of one creator, so the feed can always alternate creators.
    func globalCandidates(_ eligible: Eligibility, count: Int, into candidates: inout [Int32: Candidate]) {
        var perCreator: [Int32: Int] = [:]
        func admits(_ item: Int32) -> Bool {
            let creator = catalog.creatorOfItem[Int(item)]
            guard perCreator[creator, default: 0] < 3 else { return false }
            perCreator[creator, default: 0] += 1
            return true
        }
        var taken = 0
        for item in rankings.trending where eligible.allows(item) && admits(item) {
            candidates[item, default: Candidate()].trending = engagement.normalizedTrending(item)
            taken += 1
            if taken >= max(50, count) { break }
        }
        taken = 0
        perCreator = [:]
        for item in rankings.popular where eligible.allows(item) && admits(item) {
            candidates[item, default: Candidate()].popular = engagement.popularity[Int(item)] + 1
            taken += 1
            if taken >= 2 * count { return }
        }
        // The user has seen the most popular items: fall back to the newest ones.
        guard rankings.popular.count < catalog.count else { return }
        for item in rankings.newestFirst where eligible.allows(item) && (candidates[item]?.popular ?? 0) == 0 && admits(item) {
            candidates[item, default: Candidate()].popular = engagement.popularity[Int(item)] + 1
            taken += 1
            if taken >= 2 * count { return }
        }
    }

    /// Fresh items (published within the fresh window) with the least exposure so far, among at most
    /// `explorationScanLimit` of them: a large catalogue has tens of thousands of fresh items, so the scan
    /// starts at a position drawn from `random` and wraps around; every fresh item is in some scans.
    /// - Complexity: O(log N + explorationScanLimit).
    func explorationCandidates(
        _ eligible: Eligibility, count: Int, freshWindow: Int64, random: inout SplitMix64, where include: (Int32) -> Bool
    ) -> [Int32] {
        let order = rankings.newestFirst
        // newestFirst is sorted by publication time, newest first: find the published, fresh range.
        func firstIndex(publishedAtOrBefore time: Int64) -> Int {
            var low = 0
            var high = order.count
            while low < high {
                let middle = (low + high) / 2
                if catalog.publishedAtOfItem[Int(order[middle])] > time { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let start = firstIndex(publishedAtOrBefore: eligible.now)
        let end = firstIndex(publishedAtOrBefore: eligible.now - freshWindow - 1)
        let fresh = end - start
        guard fresh > 0 else { return [] }
        let offset = fresh > Self.explorationScanLimit ? Int(random.next() % UInt64(fresh)) : 0
        // The exposures first, in a loop of their own: independent loads the processor overlaps (see
        // CacheWarming.swift), where reading each inside the selection below waited for its miss.
        var scanned: [(index: Int32, exposure: Int32)] = []
        scanned.reserveCapacity(min(fresh, Self.explorationScanLimit))
        for step in 0..<min(fresh, Self.explorationScanLimit) {
            let index = order[start + (offset + step) % fresh]
            scanned.append((index, engagement.exposure[Int(index)]))
        }
        var least = TopK(count)
        for (index, exposure) in scanned {
            let score = -Float(exposure)
            // The exposure decides first: once the list is full, most items are no better, and their
            // eligibility (hash lookups) is not needed.
            if least.admits(index, score: score) && eligible.allows(index) && include(index) { least.insert(index, score: score) }
        }
        return least.sorted().map(\.element)
    }

    /// How many co-visited items of one source item a feed ranks. Default: 100.
    static let coVisitationPerSource = 100

    /// How many co-visited items are read ahead at a time: enough misses in flight to overlap, few enough
    /// that a chunk's reads do not go ahead of the list's pruning bound by much.
    static let coVisitationChunk = 16

    /// How many fresh items one feed looks at for exploration.
    static let explorationScanLimit = 1_000
}
