// SPDX-License-Identifier: Apache-2.0
//
// Turns candidates into a feed. Rules the returned feed always keeps:
// - no item the user was served or acted on within `noRepeatWindowMilliseconds`;
// - no item or creator the user marked `not_interested`;
// - never two items in a row from the same creator (also across consecutive feeds);
// - about `explorationShare` of the slots go to fresh items with the least exposure;
// - the same state, seed and clock give the same feed.
// Every returned item is recorded as served before the feed is returned.

extension EngineState {
    /// Builds the next feed for a user and records it as served.
    /// - Complexity: O(C + N) for C co-visited candidates and N catalogued items.
    mutating func makeFeed(for userID: UserID, count: Int, now: Int64) -> [FeedEntry] {
        let feed = configuration.feed
        var user = users[userID] ?? UserState()
        let eligible = Eligibility(user: user, catalog: catalog, now: now, window: feed.noRepeatWindowMilliseconds)

        var candidates: [Int32: Candidate] = [:]
        coVisitationCandidates(user, eligible, into: &candidates)
        followedCreatorCandidates(user, eligible, into: &candidates)
        favouriteTagCandidates(user, eligible, into: &candidates)
        globalCandidates(eligible, count: count, into: &candidates)

        var random = SplitMix64(seed: configuration.seed ^ stableHash(userID.rawValue) ^ (user.feedsServed &* 0x9E37_79B9_7F4A_7C15))
        let explorationSlots = min(count - 1, Int((Double(count) * feed.explorationShare).rounded()))
        var exploration: [Int32] = []
        if explorationSlots > 0 {
            // Fresh items that no other source proposed: the ones that still need an audience.
            var pool = explorationCandidates(eligible, count: explorationSlots * 4, freshWindow: feed.freshWindowMilliseconds) {
                candidates[$0] == nil
            }
            pool.shuffle(using: &random)
            exploration = Array(pool.prefix(explorationSlots))
        }

        var ranked = score(candidates, user: user)
        var entries: [FeedEntry] = []
        var lastCreator = user.lastServedCreator
        var tagCounts: [Int32: Int] = [:]
        // Exploration items go to random positions after the first.
        var explorationPositions = Set<Int>()
        while explorationPositions.count < exploration.count {
            explorationPositions.insert(1 + Int(random.next() % UInt64(max(1, count - 1))))
        }
        for position in 0..<count {
            if explorationPositions.contains(position), let index = exploration.firstIndex(where: { catalog.creatorOfItem[Int($0)] != lastCreator }) {
                let item = exploration.remove(at: index)
                entries.append(FeedEntry(item: catalog.items[Int(item)].id, score: 0, reason: .exploration))
                lastCreator = catalog.creatorOfItem[Int(item)]
                continue
            }
            var best = -1
            var bestScore = -Float.infinity
            for (offset, entry) in ranked.enumerated() where catalog.creatorOfItem[Int(entry.item)] != lastCreator {
                // Penalties only lower a score, and the list is sorted: nothing later can win.
                if entry.score <= bestScore { break }
                let firstTag = catalog.tagsOfItem[Int(entry.item)].first
                let repeats = firstTag.map { tagCounts[$0, default: 0] } ?? 0
                var effective = entry.score
                for _ in 0..<repeats { effective *= effective > 0 ? feed.tagRepeatPenalty : 1 / feed.tagRepeatPenalty }
                if effective > bestScore { bestScore = effective; best = offset }
            }
            guard best >= 0 else { break }
            let chosen = ranked.remove(at: best)
            if let firstTag = catalog.tagsOfItem[Int(chosen.item)].first { tagCounts[firstTag, default: 0] += 1 }
            lastCreator = catalog.creatorOfItem[Int(chosen.item)]
            entries.append(FeedEntry(item: catalog.items[Int(chosen.item)].id, score: chosen.score, reason: chosen.reason))
        }

        for entry in entries {
            let index = catalog.itemIndex[entry.item]!
            user.markSeen(index, at: now)
            engagement.recordExposure(index)
        }
        user.lastServedCreator = lastCreator
        user.feedsServed &+= 1
        if user.seen.count > 4096 { user.pruneSeen(now: now, window: feed.noRepeatWindowMilliseconds) }
        users[userID] = user
        return entries
    }

    /// Combines the sources into one score per candidate, best first (ties by item index).
    private func score(_ candidates: [Int32: Candidate], user: UserState) -> [(item: Int32, score: Float, reason: FeedReason)] {
        let feed = configuration.feed
        let maximumCoVisitation = candidates.values.map(\.coVisitation).max() ?? 0
        let maximumPopular = candidates.values.map(\.popular).max() ?? 0
        let tagScale = user.tagAffinity.values.map(abs).max() ?? 0
        let creatorScale = user.creatorAffinity.values.map(abs).max() ?? 0
        var ranked: [(item: Int32, score: Float, reason: FeedReason)] = []
        ranked.reserveCapacity(candidates.count)
        for (item, candidate) in candidates {
            let i = Int(item)
            let parts: [(Float, FeedReason)] = [
                (maximumCoVisitation > 0 ? feed.coVisitationWeight * candidate.coVisitation / maximumCoVisitation : 0,
                 candidate.coVisitationSource >= 0 ? .coVisitation(because: catalog.items[Int(candidate.coVisitationSource)].id) : .popular),
                (feed.followedCreatorWeight * candidate.followedCreator, .followedCreator(catalog.items[i].creator)),
                (feed.tagWeight * candidate.favouriteTag,
                 candidate.favouriteTagIndex >= 0 ? .favouriteTag(catalog.tags[Int(candidate.favouriteTagIndex)]) : .popular),
                (feed.trendingWeight * candidate.trending, .trending),
                (maximumPopular > 0 ? 0.1 * candidate.popular / maximumPopular : 0, .popular),
            ]
            var affinity: Float = 0
            let tags = catalog.tagsOfItem[i]
            if tagScale > 0 && !tags.isEmpty {
                affinity += tags.reduce(0) { $0 + (user.tagAffinity[$1] ?? 0) } / (Float(tags.count) * tagScale)
            }
            if creatorScale > 0 { affinity += (user.creatorAffinity[catalog.creatorOfItem[i]] ?? 0) / creatorScale }
            let strongest = parts.max { $0.0 < $1.0 }!
            let total = parts.reduce(0) { $0 + $1.0 } + feed.affinityWeight * affinity / 2
            ranked.append((item, total, strongest.0 > 0 ? strongest.1 : .popular))
        }
        ranked.sort { $0.score > $1.score || ($0.score == $1.score && $0.item < $1.item) }
        return ranked
    }
}
