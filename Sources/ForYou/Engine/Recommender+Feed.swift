// SPDX-License-Identifier: Apache-2.0

import Synchronization

extension Recommender {
    /// The largest feed one request may ask for.
    public static let maximumFeedCount = 100

    /// Builds the next feed for a user and records its items as served.
    ///
    /// Unknown users get a cold-start feed (trending, popular and fresh items), not an error. The feed
    /// never contains an item the user was served or acted on within
    /// ``FeedConfiguration/noRepeatWindowMilliseconds``, so it may hold fewer than `count` items when
    /// the catalogue runs out.
    /// - Parameters:
    ///   - user: the user's id as sent by the client.
    ///   - count: how many items, 1...100.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a count out of range, ``ForYouError/Code/invalidID``
    ///   for a bad user id.
    /// - Complexity: O(C + N) for C co-visited candidates and N catalogued items.
    public func feed(for user: String, count: Int = 10) async throws -> Feed {
        let userID = try UserID(validating: user, field: "user")
        guard (1...Self.maximumFeedCount).contains(count) else {
            throw ForYouError(.invalidArgument, "`count` must be in 1...\(Self.maximumFeedCount), got \(count)")
        }
        let now = clock.now()
        // The trained model ranks outside the state lock, from the user's latest positive items.
        let serving = learned.withLock { $0 }
        var learnedItems: [(item: ItemID, score: Float)] = []
        var learnedAfter: ItemID?
        if let serving {
            let history = state.withLock { $0.recentPositiveItems(of: userID) }
            let modelHistory = history.compactMap { serving.index[$0] }
            if !modelHistory.isEmpty {
                learnedItems = serving.learned.model.recommend(history: modelHistory, count: 50, itemCount: serving.learned.items.count)
                    .map { (serving.learned.items[Int($0.item)], $0.score) }
                learnedAfter = history.last
            }
        }
        let entries = state.withLock {
            $0.makeFeed(for: userID, count: count, now: now.milliseconds, learned: learnedItems, learnedAfter: learnedAfter)
        }
        try await servedWrites.withLock {
            // An erasure that ran while this feed was built removed the user: record nothing of them.
            guard state.withLock({ $0.users[userID] != nil }) else { return }
            try await store.record(entries.map { ServedRecord(user: userID, item: $0.item, at: now) })
        }
        counters.withLock { $0.feedsServed += 1 }
        return Feed(user: userID, modelVersion: serving?.learned.version ?? Self.modelVersion, entries: entries)
    }

    /// Erases a user: their events, derived state and served history, and what their events added
    /// to aggregates. Trained models were computed from everyone's events, the user's included, so
    /// they are retired too: stored models are deleted and feeds fall back to the rules until the next
    /// training. The store is compacted afterwards (when anything was deleted), so nothing of the user
    /// remains on disk. Erasing an unknown user succeeds and deletes nothing.
    /// - Returns: how many events were erased.
    public func erase(user: String) async throws -> Int {
        let userID = try UserID(validating: user, field: "user")
        let erased = try await writes.withLock {
            try await servedWrites.withLock {
                // The state is updated as soon as the events are gone, so a failure in a later step
                // (then retried by the client) never leaves their contributions behind.
                let events = try await store.events(of: userID)
                let erasedEvents = try await store.eraseEvents(of: userID)
                state.withLock { $0.erase(userID, events: events) }
                if erasedEvents > 0 {
                    erasures.withLock { $0 += 1 }
                    learned.withLock { $0 = nil }
                    try await store.deleteModels()
                }
                let erasedServed = try await store.eraseServed(of: userID)
                if erasedEvents > 0 || erasedServed > 0 { try await store.compact() }
                return erasedEvents
            }
        }
        counters.withLock { $0.usersErased += 1 }
        return erased
    }
}
