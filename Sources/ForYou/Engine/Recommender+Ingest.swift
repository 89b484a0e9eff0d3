// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The answer to an event batch: how many were stored, how many were resent, and why the others were refused.
public struct IngestResult: Sendable, Equatable {
    /// One refused event.
    public struct Rejection: Sendable, Equatable {
        /// Position in the batch, from 0.
        public var index: Int
        /// The event's id as sent, when it had one.
        public var id: String?
        public var code: ForYouError.Code
        public var message: String
    }
    public var accepted = 0
    public var duplicates = 0
    public var rejected: [Rejection] = []
    public init() {}
}

extension Recommender {
    /// How many events are folded into the state per hold of its lock.
    static let foldChunk = 64

    /// Validates, durably stores and learns from a batch of items, all or none.
    /// - Returns: the number of items upserted.
    /// - Throws: ``ForYouError/Code/invalidArgument`` (batch too large) or the first invalid item's code,
    ///   with its index and field in the message; nothing is stored then.
    public func upsertItems(_ inputs: [ItemInput]) async throws -> Int {
        guard inputs.count <= configuration.maximumItemBatch else {
            throw ForYouError(.invalidArgument, "`items` must hold at most \(configuration.maximumItemBatch) items, got \(inputs.count)")
        }
        let now = clock.now()
        var items: [Item] = []
        items.reserveCapacity(inputs.count)
        for (index, input) in inputs.enumerated() {
            do throws(ForYouError) {
                items.append(try configuration.validation.validate(input, now: now))
            } catch {
                if error.code == .wrongJurisdiction { counters.withLock { $0.refusedWrongJurisdiction += 1 } }
                throw ForYouError(error.code, "items[\(index)]: \(error.message)")
            }
        }
        try await exclusively {
            try await store.upsert(items)
            state.withLock { $0.upsert(items) }
        }
        counters.withLock { $0.itemsUpserted += items.count }
        return items.count
    }

    /// Validates a batch of events, durably stores the valid ones and folds them into each user's state.
    ///
    /// When this returns, every accepted event survives a crash and is reflected in the user's next feed.
    /// Invalid events are reported one by one; they never stop valid events in the same batch.
    /// - Throws: ``ForYouError/Code/invalidArgument`` when the batch is larger than
    ///   ``Configuration/maximumEventBatch``; store failures (nothing of the batch is then stored).
    /// - Complexity: O(n · (log E + R + t)) for n events, E logged events, R recent positives per user and t tags per item.
    public func ingest(_ inputs: [EventInput]) async throws -> IngestResult {
        guard inputs.count <= configuration.maximumEventBatch else {
            throw ForYouError(.invalidArgument, "`events` must hold at most \(configuration.maximumEventBatch) events, got \(inputs.count)")
        }
        var result = IngestResult()
        let now = clock.now()
        // On a shared store an item may have been upserted through another server a moment ago.
        if let shared = store as? any SharedStore,
            state.withLock({ state in inputs.contains { input in input.item.map { state.item(ItemID(trusted: $0)) == nil } ?? false } })
        {
            try await exclusively { try await catchUpItemsLocked(from: shared) }
        }
        // Validation needs the state only for the items the events name: they are looked up in one pass
        // under the state lock, and the events checked outside any lock, so a batch is validated while
        // the one before it is appended or folded. An item's catalogue index never changes.
        let catalogued = state.withLock { state in
            inputs.map { input -> (index: Int32, creator: CreatorID, durationMilliseconds: Int64)? in
                guard let raw = input.item, let index = state.catalog.itemIndex[ItemID(trusted: raw)] else { return nil }
                return (index, state.catalog.items[Int(index)].creator, state.catalog.items[Int(index)].durationMilliseconds)
            }
        }
        var valid: [Event] = []
        valid.reserveCapacity(inputs.count)
        var itemIndices: [Int32?] = []
        itemIndices.reserveCapacity(inputs.count)
        for (index, input) in inputs.enumerated() {
            do throws(ForYouError) {
                let item = catalogued[index]
                valid.append(try configuration.validation.validate(input, now: now, creatorAndDuration: { _ in item.map { ($0.creator, $0.durationMilliseconds) } }))
                itemIndices.append(item?.index)
            } catch {
                result.rejected.append(.init(index: index, id: input.id, code: error.code, message: error.message))
            }
        }
        // Stage one, under `writes`: append to the log. Stage two, on the fold queue: fold the new events
        // into the state, in log order, while the next batch is appended (see `FoldQueue`). The batch is
        // acknowledged once both are done.
        let folded = try await writes.withLock {
            let stored = valid.isEmpty ? [] : try await store.append(valid)
            var fresh = valid
            var freshIndices = itemIndices
            if stored.contains(false) {
                fresh = []
                freshIndices = []
                for (position, isNew) in stored.enumerated() where isNew {
                    fresh.append(valid[position])
                    freshIndices.append(itemIndices[position])
                }
            }
            noteOwnEvents(fresh)
            result.duplicates = valid.count - fresh.count
            let events = fresh
            let indices = freshIndices
            return folds.submit { [self] in
                fold(events, itemIndices: indices, now: now)
                return events.count
            }
        }
        result.accepted = await folded.value
        counters.withLock {
            $0.eventsAccepted += result.accepted
            $0.eventsDuplicate += result.duplicates
            $0.eventsRejected += result.rejected.count
            $0.refusedWrongJurisdiction += result.rejected.count { $0.code == .wrongJurisdiction }
        }
        return result
    }

    /// Folds a stored batch into the state (stage two of ``ingest(_:)``, on the fold queue).
    private func fold(_ events: [Event], itemIndices: [Int32?], now: Timestamp) {
        // In chunks, so a feed waits for at most one chunk rather than a whole batch (each event is
        // whole when the lock is released, and the fold queue runs one batch at a time).
        var positive: [Bool] = []
        positive.reserveCapacity(events.count)
        for start in stride(from: 0, to: events.count, by: Self.foldChunk) {
            if start > 0 { state.yieldToWaiters() }
            state.withLock { state in
                let chunk = start..<min(events.count, start + Self.foldChunk)
                state.warm(events[chunk], itemIndices: itemIndices[chunk])
                for position in chunk {
                    positive.append(state.apply(events[position], itemIndex: itemIndices[position]))
                }
            }
        }
        noteFreshEngagements(events, positive: positive, itemIndices: itemIndices)
        dropStatisticsBeforeWindow(now: now)
        expireIdleUsersIfDue()
    }
}
