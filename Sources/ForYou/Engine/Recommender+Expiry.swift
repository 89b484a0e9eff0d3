// SPDX-License-Identifier: Apache-2.0
//
// Stale users expire (`FeedConfiguration.userProfileExpiryMilliseconds`): what the engine learned about
// a user with no event for that long is forgotten, like Monolith's expirable embeddings, so memory
// follows the users active lately rather than every user ever seen. The log decides: a user back after
// the expiry starts a new profile when their event is folded in (see `EngineState.fold`), and feeds and
// the profile treat an expired profile as empty before any sweep, so a running engine and one rebuilt
// from the log agree. Sweeps only free the memory: they forget expired profiles and drop users with
// nothing left (no follow, no not-interested mark, nothing seen within the no-repeat window).
//
// Sweeps run in the background when the number of users has doubled since the last one (amortised
// O(1) per user), over a snapshot of the ids, in chunks, so feeds wait for at most one chunk.

import Synchronization

/// When the next sweep of idle users is due, and what sweeps did.
struct UserExpiry {
    var sweepAtCount = 1_024
    var sweeping = false
    var expired = 0
}

extension Recommender {
    /// How many users one hold of the state lock looks at.
    static let expiryChunk = 10_000

    /// Starts a sweep in the background when the users held have doubled since the last one.
    func expireIdleUsersIfDue() {
        guard configuration.feed.userProfileExpiryMilliseconds != nil else { return }
        let count = state.withLock { $0.users.count }
        let start = userExpiry.withLock { expiry in
            guard !expiry.sweeping, count >= expiry.sweepAtCount else { return false }
            expiry.sweeping = true
            return true
        }
        if start { Task.detached { self.sweepIdleUsers() } }
    }

    /// Expires every user idle for the configured time, now. - Complexity: O(users), in chunks.
    func sweepIdleUsers() {
        defer { userExpiry.withLock { $0.sweeping = false } }
        guard let expiry = configuration.feed.userProfileExpiryMilliseconds else { return }
        let now = clock.now().milliseconds
        let ids = state.withLock { Array($0.users.keys) }
        var expired = 0
        for start in stride(from: 0, to: ids.count, by: Self.expiryChunk) {
            expired += state.withLock { $0.expireIdle(ids[start..<min(ids.count, start + Self.expiryChunk)], now: now, expiry: expiry) }
        }
        let remaining = state.withLock { $0.users.count }
        userExpiry.withLock {
            $0.expired += expired
            $0.sweepAtCount = max(1_024, 2 * remaining)
        }
    }
}
