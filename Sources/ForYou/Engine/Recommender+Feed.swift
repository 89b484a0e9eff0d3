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
    /// With `personalized: false`, or when the user's controls say so, the feed is the non-profiled one
    /// (see `NonProfiledFeed`): the global order minus the user's explicit exclusions, paged by `offset`.
    /// One feed in ``Configuration/auditFeedSampleEvery`` is written to the audit log.
    /// - Parameters:
    ///   - user: the user's id as sent by the client.
    ///   - count: how many items, 1...100.
    ///   - personalized: `false` for the feed not based on profiling.
    ///   - offset: for the non-profiled feed, how many items of the global order to skip (0...10000).
    ///   - record: `false` for a preview (the operator console): the feed is computed but not recorded as
    ///     served, so the user's next feed is unaffected.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a count out of range, ``ForYouError/Code/invalidID``
    ///   for a bad user id.
    /// - Complexity: O(C + N) for C co-visited candidates and N catalogued items.
    public func feed(for user: String, count: Int = 10, personalized: Bool = true, offset: Int = 0, record: Bool = true) async throws -> Feed {
        let userID = try UserID(validating: user, field: "user")
        guard (1...Self.maximumFeedCount).contains(count) else {
            throw ForYouError(.invalidArgument, "`count` must be in 1...\(Self.maximumFeedCount), got \(count)")
        }
        guard (0...10_000).contains(offset) else {
            throw ForYouError(.invalidArgument, "`offset` must be in 0...10000, got \(offset)")
        }
        let now = clock.now()
        if !personalized || state.withLock({ $0.controls[userID]?.personalized == false }) {
            let entries = state.withLock { $0.makeNonProfiledFeed(for: userID, count: count, offset: offset, now: now.milliseconds, record: record) }
            let feed = Feed(user: userID, modelVersion: "non-profiled-v1", personalized: false, entries: entries)
            if record { try await recordServed(feed, at: now) }
            return feed
        }
        // The trained model ranks outside the state lock, from the user's latest positive items. A
        // licensed package whose license ended since it was installed stops serving now.
        var serving = learned.withLock { $0 }
        if let expired = serving, let end = expired.licenseEnd, now.milliseconds > end {
            try await retire(expired)
            serving = learned.withLock { $0 }
        }
        var learnedItems: [(item: ItemID, score: Float)] = []
        var learnedAfter: ItemID?
        if let serving {
            // Read before the history: a vector folded in from a history an erasure removed meanwhile is not kept.
            let generation = userVectors.withLock { $0.generation }
            let history = state.withLock { $0.recentPositiveItems(of: userID, now: now.milliseconds) }
            learnedItems = learnedCandidates(
                serving, user: userID, history: history, generation: generation, count: 50, now: now.milliseconds, exact: false)
            if !learnedItems.isEmpty { learnedAfter = history.last }
        }
        let entries = state.withLock {
            $0.makeFeed(for: userID, count: count, now: now.milliseconds, learned: learnedItems, learnedAfter: learnedAfter, record: record)
        }
        let feed = Feed(user: userID, modelVersion: serving?.version ?? Self.modelVersion, entries: entries)
        if record { try await recordServed(feed, at: now) }
        return feed
    }

    /// The trained model's best items for a user that they have not seen, as a feed gets them: from the
    /// index on a large catalogue, else by scoring every item; with `exact: true`, always by scoring every item. For
    /// checking the index against exact scoring (`foryou bench world` does, side by side). Empty when
    /// no model serves or the user has no positive item the model knows.
    /// - Throws: ``ForYouError/Code/invalidID`` for a bad user id, ``ForYouError/Code/invalidArgument``
    ///   for a count out of 1...1000.
    public func learnedCandidates(for user: String, count: Int = 50, exact: Bool = false) throws -> [(item: ItemID, score: Float)] {
        let userID = try UserID(validating: user, field: "user")
        guard (1...1000).contains(count) else { throw ForYouError(.invalidArgument, "`count` must be in 1...1000, got \(count)") }
        guard let serving = learned.withLock({ $0 }) else { return [] }
        let generation = userVectors.withLock { $0.generation }
        let now = clock.now().milliseconds
        let history = state.withLock { $0.recentPositiveItems(of: userID, now: now) }
        return learnedCandidates(serving, user: userID, history: history, generation: generation, count: count, now: now, exact: exact)
    }

    private func learnedCandidates(
        _ serving: ServingModel, user: UserID, history: [ItemID], generation: Int, count: Int, now: Int64, exact: Bool
    ) -> [(item: ItemID, score: Float)] {
        let modelHistory = history.compactMap { serving.index[$0] }
        guard !modelHistory.isEmpty else { return [] }
        if !exact, let retrieval = serving.retrievalOrStartBuilding() {
            return retrieve(from: retrieval, serving, user: user, history: modelHistory, generation: generation, count: count, now: now)
                .compactMap { entry in
                retrieval.item(ofLabel: entry.item, modelItems: serving.learned.items).map { ($0, entry.score) }
            }
        }
        // What the user has seen cannot be in their feed: the best items beyond it.
        let seen = Set(state.withLock { $0.seenItems(of: user, now: now) }.compactMap { serving.index[$0] })
        return serving.learned.model.recommend(history: modelHistory, count: count + seen.count, itemCount: serving.learned.items.count)
            .filter { !seen.contains($0.item) }.prefix(count).map { (serving.learned.items[Int($0.item)], $0.score) }
    }

    /// The model's `count` best items for a user from its index: the user's vector is folded in again only
    /// when their history changed since their last feed (or the model did), and what they have seen
    /// within the no-repeat window is excluded inside the search.
    private func retrieve(
        from retrieval: LearnedRetrieval, _ serving: ServingModel, user: UserID, history: [Int32], generation: Int, count: Int, now: Int64
    ) -> [(item: Int32, score: Float)] {
        let model = serving.learned.model
        let version = serving.learned.version
        let vector: [Float]
        if let cached = userVectors.withLock({ $0.vector(for: user, modelVersion: version, history: history, now: now) }) {
            vector = cached
        } else {
            vector = model.als.userVector(history: history)
            userVectors.withLock {
                $0.store(
                    vector, for: user, modelVersion: version, history: history, now: now, expiry: configuration.feed.userVectorExpiryMilliseconds,
                    readAt: generation)
            }
        }
        let (seen, catalogueCount) = state.withLock { ($0.seenItems(of: user, now: now), $0.catalog.count) }
        if retrieval.startCovering(catalogueCount: catalogueCount) {
            Task.detached { self.coverNewItems(retrieval, serving, upTo: catalogueCount) }
        }
        var excluded = IDSet()
        for item in seen { if let label = retrieval.label(of: item, modelIndex: serving.index) { excluded.insert(label) } }
        return retrieval.recommend(model, history: history, userVector: vector, excluded: excluded, count: count)
    }

    /// Indexes the catalogue items the model does not know under their metadata vectors (see
    /// `LearnedRetrieval+NewItems.swift`); called once ``LearnedRetrieval/startCovering(catalogueCount:)`` said so.
    func coverNewItems(_ retrieval: LearnedRetrieval, _ serving: ServingModel, upTo count: Int) {
        let factors = serving.learned.model.als.itemFactors
        var vectors: [(item: ItemID, vector: [Float])] = []
        // In chunks, so feeds wait for the state lock at most one chunk's time.
        for start in stride(from: retrieval.coveredCount, to: count, by: 10_000) {
            vectors += state.withLock { $0.metadataVectors(for: start..<min(start + 10_000, count), modelIndex: serving.index, factors: factors) }
        }
        retrieval.addNewItems(vectors, coveredUpTo: count, modelItemCount: serving.learned.items.count)
    }

    /// Replaces a licensed package whose license has ended with the newest stored model that may still
    /// serve (or the rules), and audits it. Runs once, whichever request notices first.
    func retire(_ expired: ServingModel) async throws {
        try await exclusively {
            guard learned.withLock({ $0 === expired }) else { return }
            var replacement: ServingModel?
            for bytes in try await store.savedModels() {
                if let model = try? servingModel(from: bytes) {
                    replacement = model
                    break
                }
            }
            learned.withLock { $0 = replacement }
            var details = expired.auditDetails
            details["reason"] = "license_expired"
            details["replaced_by"] = replacement?.version ?? Self.modelVersion
            try await recordAudit("model.expired", details: details)
        }
    }

    /// Records a feed's items as served, and samples it into the audit log.
    ///
    /// Served history may lose its last moments (see ``ServedHistory``): when it cannot be written (a
    /// full disk), the feed is still answered, its items stay marked as served in memory, and the
    /// failure is counted (`servedHistoryWriteFailures`); reading feeds keeps working while writes fail.
    private func recordServed(_ feed: Feed, at now: Timestamp) async throws {
        let sampled = counters.withLock {
            $0.feedsServed += 1
            return $0.feedsServed % configuration.auditFeedSampleEvery == 0
        }
        try await servedWrites.withLock {
            // An erasure that ran while this feed was built removed the user: record nothing of them.
            guard state.withLock({ $0.users[feed.user] != nil }) else { return }
            do {
                try await store.record(feed.entries.map { ServedRecord(user: feed.user, item: $0.item, at: now) })
            } catch let error as ForYouError where error.code == .unavailable {
                counters.withLock { $0.servedHistoryWriteFailures += 1 }
                return
            }
            if sampled {
                let items = feed.entries.map { entry in
                    "\(entry.item.rawValue) [\(entry.reason.source): \(entry.signals.map { "\($0.name)=\($0.value.formatted2)" }.joined(separator: " "))]"
                }
                try await recordAudit(
                    "feed.sample", user: feed.user,
                    details: ["model_version": feed.modelVersion, "personalized": "\(feed.personalized)", "items": items.joined(separator: "; ")])
            }
        }
    }

    /// Erases a user; see ``eraseUser(_:actor:)``.
    /// - Returns: how many events were erased.
    @discardableResult
    public func erase(user: String, actor: String = "system") async throws -> Int {
        try await eraseUser(user, actor: actor).events
    }

    /// Erases a user: their events, derived state, served history, controls and pseudonym key, what
    /// their events added to aggregates, and their contributions to the serving model, which is
    /// unlearned (Recommender+Unlearning.swift) and keeps serving under a new version; the erasure
    /// answers once it is. A serving licensed package, trained elsewhere, stays as it is. The store is
    /// compacted afterwards, so nothing of the user remains on disk, the replaced model files included.
    /// Erasing an unknown user succeeds, deletes nothing and changes no model.
    public func eraseUser(_ user: String, actor: String = "system") async throws -> Erasure {
        let userID = try UserID(validating: user, field: "user")
        // Audited before the pseudonym key is deleted: afterwards the entry cannot be linked to the user.
        try await recordAudit("user.erased", actor: actor, user: userID)
        let (erased, ticket, serving) = try await exclusively { () async throws -> (Int, UInt64?, ServingModel?) in
            // Reading and deleting the events may scan the log (the embedded store has no index on
            // users): done before `servedWrites`, which feeds take to record what they served, so feeds
            // are not held up by it; ingestion waits (the write lock).
            let events = try await store.events(of: userID)
            let erasedEvents = try await store.eraseEvents(of: userID)
            let (ticket, serving) = try await servedWrites.withLock { () async throws -> (UInt64?, ServingModel?) in
                // The state is updated as soon as the events are gone, so a failure in a later step
                // (then retried by the client) never leaves their contributions behind.
                state.withLock { $0.erase(userID, events: events) }
                userVectors.withLock { $0.remove(userID) }
                let serving = learned.withLock { $0 }
                var ticket: UInt64?
                if erasedEvents > 0 {
                    erasures.withLock { $0 += 1 }
                    // The items without factors of their own that the user engaged with are refitted without them.
                    if let serving, let retrieval = serving.retrieval, retrieval.forget(userID) {
                        Task.detached { await self.refitFreshItems(retrieval, serving) }
                    }
                    ticket = unlearningQueue.withLock { $0.enqueue(userID, events: events) }
                }
                _ = try await store.eraseServed(of: userID)
                try await store.eraseGovernanceData(of: userID)
                return (ticket, serving)
            }
            // With a model to unlearn, the store is compacted once that is stored (its old files go too).
            if ticket == nil { try await store.compact() }
            return (erasedEvents, ticket, serving)
        }
        let model: ModelUnlearning
        if let ticket {
            model = try await awaitUnlearning(ticket)
        } else {
            var unchanged = ModelUnlearning(
                outcome: serving == nil ? .noModel : serving?.licensedPackage != nil ? .keptLicensed : .unaffected,
                versionBefore: serving?.version, version: serving?.version)
            unchanged.unlearnedUsersSinceTraining = serving?.manifest?.provenance.unlearnedUsers ?? 0
            model = unchanged
        }
        counters.withLock { $0.usersErased += 1 }
        return Erasure(events: erased, model: model)
    }
}
