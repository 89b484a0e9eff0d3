// SPDX-License-Identifier: Apache-2.0
//
// Turns candidates into a feed. Rules the returned feed always keeps:
// - no item the user was served or acted on within `noRepeatWindowMilliseconds`;
// - no item or creator the user marked `not_interested`;
// - never two items in a row from the same creator (also across consecutive feeds);
// - about `explorationShare` of the slots go to fresh items with the least exposure;
// - the same state, seed and clock give the same feed.
// Every returned item is marked seen before the feed is returned.

extension EngineState {
    /// A scored candidate; its reason is built only if it makes it into the feed.
    struct RankedCandidate {
        var item: Int32
        var score: Float
        /// Which source contributed most: 0 co-visitation, 1 followed creator, 2 favourite tag, 3 trending,
        /// 4 popular, 5 the trained model.
        var strongestSource: UInt8
        var candidate: Candidate
        /// The weighted contribution of each signal, in the order of ``signalNames`` (lane 7 unused; a
        /// SIMD value, so scoring thousands of candidates allocates nothing).
        var parts: SIMD8<Float>
        /// The user's topic preference applied to the score (1 when none).
        var topicMultiplier: Float
    }

    /// The names of the ranking signals, as feeds report them.
    static let signalNames = ["co_visitation", "followed_creator", "favourite_tag", "trending", "popular", "learned_model", "affinity"]
    /// How a topic preference changes a score: more ×2, less ×0.1. An explicit choice outweighs what was
    /// learned (at less ×0.3, a topic the user had liked twice still led their feed).
    static let topicMultipliers: [UserControls.TopicPreference: Float] = [.more: 2, .less: 0.1]

    /// Builds the next feed for a user and marks its items seen.
    /// - Complexity: O(C log C + F) for C candidates and F fresh items; the global orders are
    ///   recomputed (O(N log N)) only after the catalogue or the engagement changed.
    /// With `record: false` (a preview) nothing is marked seen and the user's state is left as it was.
    mutating func makeFeed(
        for userID: UserID, count: Int, now: Int64, learned: [(item: ItemID, score: Float)] = [], learnedAfter: ItemID? = nil,
        record: Bool = true
    ) -> [FeedEntry] {
        let feed = configuration.feed
        rankings.refresh(catalog: catalog, engagement: engagement)
        // Taken out of the dictionary, so that marking items seen below does not copy its storage.
        let stored = users.removeValue(forKey: userID)
        var user = stored ?? UserState()
        // An expired profile ranks nothing, whether or not a sweep dropped it yet (see Recommender+Expiry.swift).
        if user.profileExpired(now: now, expiry: feed.userProfileExpiryMilliseconds) { user.forgetProfile() }
        let controls = self.controls[userID] ?? UserControls()
        var moreOf: [Int32] = []
        var topicMultiplier: [Int32: Float] = [:]
        for (tag, preference) in controls.topics {
            guard let index = catalog.tagIndex[tag] else { continue }
            topicMultiplier[index] = Self.topicMultipliers[preference]
            if preference == .more { moreOf.append(index) }
        }
        var random = SplitMix64(seed: configuration.seed ^ stableHash(userID.rawValue) ^ (user.feedsServed &* 0x9E37_79B9_7F4A_7C15))
        var ranked: [RankedCandidate]
        var exploration: [Int32] = []
        do {
            let eligible = Eligibility(
                user: user, catalog: catalog, now: now, window: feed.noRepeatWindowMilliseconds, keywords: controls.loweredKeywords)
            var candidates: [Int32: Candidate] = [:]
            coVisitationCandidates(user, eligible, into: &candidates)
            followedCreatorCandidates(user, eligible, into: &candidates)
            favouriteTagCandidates(user, eligible, moreOf: moreOf, into: &candidates)
            globalCandidates(eligible, count: count, into: &candidates)
            learnedCandidates(learned, eligible, into: &candidates)
            let explorationSlots = min(count - 1, Int((Double(count) * feed.explorationShare).rounded()))
            if explorationSlots > 0 {
                // Fresh items that no other source proposed: the ones that still need an audience.
                var pool = explorationCandidates(
                    eligible, count: explorationSlots * 4, freshWindow: feed.freshWindowMilliseconds, random: &random
                ) { candidates[$0] == nil }
                pool.shuffle(using: &random)
                exploration = Array(pool.prefix(explorationSlots))
            }
            ranked = score(candidates, user: user, topics: topicMultiplier, keep: max(64, count * 8))
        }

        var entries: [FeedEntry] = []
        var lastCreator = user.lastServedCreator
        var tagCounts: [Int32: Int] = [:]
        // Exploration items go to random positions after the first.
        var explorationPositions = Set<Int>()
        while explorationPositions.count < exploration.count {
            explorationPositions.insert(1 + Int(random.next() % UInt64(max(1, count - 1))))
        }
        for position in 0..<count {
            if explorationPositions.contains(position),
                let index = exploration.firstIndex(where: { catalog.creatorOfItem[Int($0)] != lastCreator })
            {
                let item = exploration.remove(at: index)
                entries.append(FeedEntry(item: catalog.items[Int(item)].id, score: 0, reason: .exploration, signals: [FeedSignal(name: "exploration", value: 1)]))
                lastCreator = catalog.creatorOfItem[Int(item)]
                continue
            }
            var best = -1
            var bestScore = -Float.infinity
            for (offset, entry) in ranked.enumerated() where catalog.creatorOfItem[Int(entry.item)] != lastCreator {
                // Penalties only lower a score, and the list is sorted: nothing later can win.
                if entry.score <= bestScore { break }
                let repeats = catalog.tagsOfItem[Int(entry.item)].first.map { tagCounts[$0, default: 0] } ?? 0
                var effective = entry.score
                for _ in 0..<repeats { effective *= effective > 0 ? feed.tagRepeatPenalty : 1 / feed.tagRepeatPenalty }
                if effective > bestScore {
                    bestScore = effective
                    best = offset
                }
            }
            guard best >= 0 else { break }
            let chosen = ranked.remove(at: best)
            if let firstTag = catalog.tagsOfItem[Int(chosen.item)].first { tagCounts[firstTag, default: 0] += 1 }
            lastCreator = catalog.creatorOfItem[Int(chosen.item)]
            entries.append(
                FeedEntry(
                    item: catalog.items[Int(chosen.item)].id, score: chosen.score, reason: reason(for: chosen, learnedAfter: learnedAfter),
                    signals: Self.signals(of: chosen)))
        }

        guard record else {
            users[userID] = stored
            return entries
        }
        markServed(entries, to: &user, at: now)
        user.lastServedCreator = lastCreator
        user.feedsServed &+= 1
        if user.seen.count > 4096 { user.pruneSeen(now: now, window: feed.noRepeatWindowMilliseconds) }
        users[userID] = user
        return entries
    }

    /// Marks a feed's items seen by the user and counts their exposure.
    mutating func markServed(_ entries: [FeedEntry], to user: inout UserState, at now: Int64) {
        for entry in entries {
            let index = catalog.itemIndex[entry.item]!
            user.markSeen(index, at: now)
            engagement.recordExposure(index)
        }
    }

    /// Combines the sources into one score per candidate and keeps the best `keep`, best first (ties by
    /// item index), plus the best candidate of each of up to `keep` other creators: without them, a
    /// creator whose items fill the whole top list would end the feed early, because two items in a row
    /// never come from the same creator. Diversification picks at most `count` of them.
    private func score(_ candidates: [Int32: Candidate], user: UserState, topics: [Int32: Float], keep: Int) -> [RankedCandidate] {
        let feed = configuration.feed
        var maximumCoVisitation: Float = 0
        var maximumPopular: Float = 0
        for candidate in candidates.values {
            maximumCoVisitation = max(maximumCoVisitation, candidate.coVisitation)
            maximumPopular = max(maximumPopular, candidate.popular)
        }
        let tagScale = user.tagAffinity.values.reduce(0) { max($0, abs($1)) }
        let creatorScale = user.creatorAffinity.values.reduce(0) { max($0, abs($1)) }
        var best = TopK(keep)
        var bestOfCreator: [Int32: (item: Int32, score: Float)] = [:]
        var scored: [Int32: (strongestSource: UInt8, parts: SIMD8<Float>, topic: Float)] = [:]
        scored.reserveCapacity(candidates.count)
        // Each candidate's creator and tags are read ahead (CacheWarming.swift): at a million items, each is a likely miss.
        var warmth: UInt64 = 0
        for item in candidates.keys {
            warmth &+= UInt64(bitPattern: Int64(catalog.creatorOfItem[Int(item)])) &+ UInt64(catalog.tagsOfItem.tagCount(Int(item)))
        }
        CacheWarming.keep(warmth)
        for (item, candidate) in candidates {
            let i = Int(item)
            let parts: (Float, Float, Float, Float, Float) = (
                maximumCoVisitation > 0 ? feed.coVisitationWeight * candidate.coVisitation / maximumCoVisitation : 0,
                feed.followedCreatorWeight * candidate.followedCreator,
                candidate.favouriteTagIndex >= 0 ? feed.tagWeight * candidate.favouriteTag : 0,
                feed.trendingWeight * candidate.trending,
                maximumPopular > 0 ? 0.1 * candidate.popular / maximumPopular : 0
            )
            var strongest: UInt8 = 4
            var strongestValue = parts.4
            if parts.0 > strongestValue { (strongest, strongestValue) = (0, parts.0) }
            if parts.1 > strongestValue { (strongest, strongestValue) = (1, parts.1) }
            if parts.2 > strongestValue { (strongest, strongestValue) = (2, parts.2) }
            if parts.3 > strongestValue { (strongest, strongestValue) = (3, parts.3) }
            var affinity: Float = 0
            let tags = catalog.tagsOfItem[i]
            if tagScale > 0 && !tags.isEmpty {
                affinity += tags.reduce(0) { $0 + (user.tagAffinity[$1] ?? 0) } / (Float(tags.count) * tagScale)
            }
            if creatorScale > 0 { affinity += (user.creatorAffinity[catalog.creatorOfItem[i]] ?? 0) / creatorScale }
            let learnedPart = feed.learnedWeight * candidate.learned
            if learnedPart > strongestValue { (strongest, strongestValue) = (5, learnedPart) }
            let affinityPart = feed.affinityWeight * affinity / 2
            var total = parts.0 + parts.1 + parts.2 + parts.3 + parts.4 + learnedPart + affinityPart
            // A topic preference: "less" wins over "more" when an item has both kinds of tags.
            var topic: Float = 1
            if !topics.isEmpty {
                for tag in tags { if let multiplier = topics[tag] { topic = topic == 1 ? multiplier : min(topic, multiplier) } }
                total = total > 0 ? total * topic : total / topic
            }
            best.insert(item, score: total)
            let creator = catalog.creatorOfItem[i]
            if let current = bestOfCreator[creator], current.score > total || (current.score == total && current.item < item) {
                // keep the current best of this creator
            } else {
                bestOfCreator[creator] = (item, total)
            }
            scored[item] = (strongest, SIMD8(parts.0, parts.1, parts.2, parts.3, parts.4, learnedPart, affinityPart, 0), topic)
        }
        var top = best.sorted()
        let kept = Set(top.map(\.element))
        var others = TopK(keep)
        for (_, entry) in bestOfCreator where !kept.contains(entry.item) { others.insert(entry.item, score: entry.score) }
        let extra = others.sorted()
        if !extra.isEmpty {
            top += extra
            top.sort { $0.score > $1.score || ($0.score == $1.score && $0.element < $1.element) }
        }
        return top.map { item, score in
            let entry = scored[item]!
            return RankedCandidate(
                item: item, score: score, strongestSource: entry.strongestSource, candidate: candidates[item]!, parts: entry.parts,
                topicMultiplier: entry.topic)
        }
    }

    /// The top three positive signals of a ranked item (and its topic preference), strongest first.
    static func signals(of ranked: RankedCandidate) -> [FeedSignal] {
        var signals = signalNames.indices.map { (signalNames[$0], ranked.parts[$0]) }.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }.prefix(3)
            .map { FeedSignal(name: $0.0, value: $0.1) }
        if ranked.topicMultiplier > 1 { signals.append(FeedSignal(name: "topic_more", value: ranked.topicMultiplier)) }
        if ranked.topicMultiplier < 1 { signals.append(FeedSignal(name: "topic_less", value: ranked.topicMultiplier)) }
        return signals
    }

    /// The reason of a chosen candidate: its strongest source, with the signal behind it.
    private func reason(for ranked: RankedCandidate, learnedAfter: ItemID?) -> FeedReason {
        let candidate = ranked.candidate
        switch ranked.strongestSource {
        case 0 where candidate.coVisitationSource >= 0: return .coVisitation(because: catalog.items[Int(candidate.coVisitationSource)].id)
        case 1: return .followedCreator(catalog.items[Int(ranked.item)].creator)
        case 2 where candidate.favouriteTagIndex >= 0: return .favouriteTag(catalog.tags[Int(candidate.favouriteTagIndex)])
        case 3: return .trending
        case 5: return learnedAfter.map { .learned(after: $0) } ?? .popular
        default: return .popular
        }
    }
}
