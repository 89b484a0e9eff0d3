// SPDX-License-Identifier: Apache-2.0
//
// What the engine has learned about one user from their events: the latest positive items (which
// seed co-visitation), decayed tag and creator affinities, follows, blocks, and what they have seen
// (served or acted on) with when, for the no-repeat rule. All of it is rebuilt from the event log and
// served history when the engine opens, and dropped when the user is erased. What was learned expires
// when the user is idle long enough (`FeedConfiguration.userProfileExpiryMilliseconds`), as Monolith's
// embeddings of ids not seen for a while do, so memory follows the users active lately.

struct UserState {
    /// One recent positive engagement.
    struct RecentPositive {
        var item: Int32
        var weight: Float
        var at: Int64
    }

    /// Latest positive items, oldest first, at most `FeedConfiguration.recentPositives`.
    var recent: [RecentPositive] = []
    /// Tag index → affinity, stored multiplied by `affinityScale`. Every affinity decays by
    /// `affinityDecay` per event so recent taste dominates; instead of touching every entry, new weight
    /// is added multiplied by a growing scale (forward decay). Readers only compare affinities with
    /// each other (ratios), so the scale cancels out.
    var tagAffinity: [Int32: Float] = [:]
    /// Creator index → affinity, scaled like tags.
    var creatorAffinity: [Int32: Float] = [:]
    /// The current multiplier of new affinity.
    var affinityScale: Float = 1
    var followedCreators: Set<Int32> = []
    var blockedItems: Set<Int32> = []
    var blockedCreators: Set<Int32> = []
    /// Item index → last time it was served to or acted on by the user (ms since epoch).
    var seen: [Int32: Int64] = [:]
    /// How many feed responses this user has been served; varies the exploration draw.
    var feedsServed: UInt64 = 0
    /// Creator of the last item served, so the next feed does not start with the same creator.
    var lastServedCreator: Int32 = -1
    /// The latest time of the user's events (ms since epoch, client time): what the learned profile's
    /// expiry counts from. Feeds do not count: they are not in the log, so a restart could not know them.
    var lastEvent = Int64.min

    /// Multiplier applied to every affinity on each new event.
    static let affinityDecay: Float = 0.98

    /// Folds an event's weight into the tag and creator affinities.
    /// - Complexity: O(t) for t tags of the item; O(k) for k known tags and creators once per ~600 events.
    mutating func learnAffinity(weight: Float, tags: some Sequence<Int32>, creator: Int32?) {
        guard weight != 0 else { return }
        affinityScale /= Self.affinityDecay
        if affinityScale > 1e6 {
            for key in tagAffinity.keys { tagAffinity[key]! /= affinityScale }
            for key in creatorAffinity.keys { creatorAffinity[key]! /= affinityScale }
            affinityScale = 1
        }
        for tag in tags { tagAffinity[tag, default: 0] += weight * affinityScale }
        if let creator { creatorAffinity[creator, default: 0] += weight * affinityScale }
    }

    /// Forgets the learned profile (recent items and affinities), keeping follows, blocks and what the
    /// user has seen: "reset my feed".
    mutating func forgetProfile() {
        recent = []
        tagAffinity = [:]
        creatorAffinity = [:]
        affinityScale = 1
    }

    /// Appends a positive item to the recent list, dropping the oldest beyond `limit`.
    mutating func remember(_ positive: RecentPositive, limit: Int) {
        recent.append(positive)
        if recent.count > limit { recent.removeFirst(recent.count - limit) }
    }

    /// Marks an item seen at `at`, keeping the latest time.
    mutating func markSeen(_ item: Int32, at: Int64) {
        if let previous = seen[item], previous >= at { return }
        seen[item] = at
    }

    /// Whether the item was seen within `window` before `now`.
    func hasSeen(_ item: Int32, now: Int64, window: Int64) -> Bool {
        guard let at = seen[item] else { return false }
        return now - at < window
    }

    /// Whether the learned profile has expired: no event for `expiry` before `now`.
    func profileExpired(now: Int64, expiry: Int64?) -> Bool {
        guard let expiry, lastEvent != .min else { return false }
        return now - lastEvent >= expiry
    }

    /// Whether anything is left to keep: a learned profile, a follow, a not-interested mark, or an item
    /// seen within the no-repeat window.
    var isEmpty: Bool {
        recent.isEmpty && tagAffinity.isEmpty && creatorAffinity.isEmpty && followedCreators.isEmpty && blockedItems.isEmpty
            && blockedCreators.isEmpty && seen.isEmpty
    }

    /// Drops seen entries older than the window, bounding memory.
    mutating func pruneSeen(now: Int64, window: Int64) {
        seen = seen.filter { now - $0.value < window }
    }
}
