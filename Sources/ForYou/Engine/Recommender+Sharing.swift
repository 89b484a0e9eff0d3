// SPDX-License-Identifier: Apache-2.0
//
// Several engine processes on one shared store (for example several servers on one PostgreSQL
// database). Each process keeps its derived state in memory; this file keeps it in step with what the
// others write: their events and items are folded in, their models, keys and controls are reloaded,
// and an erasure anywhere rebuilds the state from the store, so the erased user is gone everywhere.

import Synchronization

/// How far an engine has followed its store.
struct SharingProgress: Sendable {
    /// The log position of the last event folded into the state.
    var appliedPosition: Int64 = 0
    /// Events this process appended and folded in already, beyond `appliedPosition`: skipped (and
    /// forgotten) when the log is read past them.
    var ownEvents: Set<EventID> = []
    /// The last item change number applied (see ``SharedStore/items(changedAfter:)``).
    var appliedItemChange: Int64 = 0
    /// The generations of models, keys, controls and erasure this engine is up to date with.
    var generations: [StoreChange: Int64] = [:]
}

extension Recommender {
    /// Builds the derived state from the store: controls, items, the whole event log, and served history
    /// within the no-repeat window.
    /// - Complexity: O(E + S) for E logged events and S served records within the window.
    static func loadState(
        from store: any ForYouStore, configuration: Configuration, clock: any WallClock
    ) async throws -> (state: EngineState, progress: SharingProgress) {
        var progress = SharingProgress()
        let shared = store as? any SharedStore
        // Read first, so a change made while the state is read is applied again rather than missed.
        if let shared {
            progress.generations = try await shared.generations()
            progress.appliedItemChange = try await shared.items(changedAfter: .max).lastChange
        }
        var state = EngineState(configuration: configuration)
        state.controls = try await store.allUserControls()
        state.upsert(try await store.allItems())
        while true {
            let page = try await store.page(after: progress.appliedPosition, limit: 10_000)
            if page.events.isEmpty { break }
            // Another server may have upserted the items these events name after the catalogue was read.
            if let shared { try await catchUpItems(from: shared, into: &state, progress: &progress) }
            for event in page.events { state.apply(event) }
            progress.appliedPosition = page.lastPosition
        }
        let since = clock.now().advanced(byMilliseconds: -configuration.feed.noRepeatWindowMilliseconds)
        state.markServed(try await store.served(since: since))
        state.statistics.dropHours(before: clock.now().milliseconds / Timestamp.hour - Int64(configuration.itemStatisticsRetentionHours) + 1)
        // The users a running engine would have expired by now (see `Recommender+Expiry.swift`).
        if let expiry = configuration.feed.userProfileExpiryMilliseconds {
            _ = state.expireIdle(Array(state.users.keys), now: clock.now().milliseconds, expiry: expiry)
        }
        return (state, progress)
    }

    /// Applies items upserted after `progress.appliedItemChange`.
    static func catchUpItems(from shared: any SharedStore, into state: inout EngineState, progress: inout SharingProgress) async throws {
        let (items, last) = try await shared.items(changedAfter: progress.appliedItemChange)
        if !items.isEmpty { state.upsert(items) }
        progress.appliedItemChange = max(progress.appliedItemChange, last)
    }

    /// Remembers events this process folded in, so following a shared store does not fold them twice.
    func noteOwnEvents(_ events: [Event]) {
        guard store is any SharedStore, !events.isEmpty else { return }
        sharing.withLock { $0.ownEvents.formUnion(events.lazy.map(\.id)) }
    }

    /// Follows what other processes write to `shared` until the task is cancelled or the store closes:
    /// applies each notified change, and every `pollInterval` catches up items, events and API keys
    /// anyway (a notification can be lost while the store's connection is down; a revoked key must not
    /// wait for the next one).
    /// - Parameter onError: called with each failure to apply a change; following goes on.
    public func followChanges(
        of shared: any SharedStore, pollInterval: Duration = .seconds(1), onError: @escaping @Sendable (any Error) -> Void = { _ in }
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await change in shared.changes() {
                    do { try await self.apply(change, from: shared) } catch { onError(error) }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: pollInterval)
                        try await self.apply(.events, from: shared)
                        try await self.catchUpGenerations(from: shared)
                    } catch is CancellationError {
                        return
                    } catch {
                        onError(error)
                    }
                }
            }
            // The notifications end when the store closes: stop polling too.
            await group.next()
            group.cancelAll()
        }
    }

    /// Applies one kind of change another process made to the shared store (models, keys, controls and
    /// erasures only when their generation moved, so a notification and a poll never apply one twice).
    public func apply(_ change: StoreChange, from shared: any SharedStore) async throws {
        switch change {
        case .items:
            try await catchUpItems(from: shared)
        case .events:
            try await catchUpEvents(from: shared)
        case .models, .keys, .controls, .erasure:
            try await catchUpGenerations(from: shared)
        }
    }

    /// Applies each kind whose generation moved since this engine last applied it.
    func catchUpGenerations(from shared: any SharedStore) async throws {
        // One catch-up at a time (the poll and a notification may both ask), so nothing is applied twice.
        try await catchingUp.withLock {
            let current = try await shared.generations()
            let seen = sharing.withLock { $0.generations }
            // An erasure first: it rebuilds the state from the store.
            for change in [StoreChange.erasure, .models, .keys, .controls] where current[change] != seen[change] {
                try await applyGeneration(change)
                sharing.withLock { $0.generations[change] = current[change] }
            }
        }
    }

    private func applyGeneration(_ change: StoreChange) async throws {
        switch change {
        case .items, .events:
            break
        case .models:
            try await reloadModels()
        case .keys:
            try await exclusively { try await reloadKeys() }
        case .controls:
            try await exclusively {
                let controls = try await store.allUserControls()
                state.withLock { $0.controls = controls }
            }
        case .erasure:
            try await reloadState()
        }
    }

    private func catchUpItems(from shared: any SharedStore) async throws {
        try await exclusively { try await catchUpItemsLocked(from: shared) }
    }

    /// Applies items other servers upserted; the caller holds `writes`.
    func catchUpItemsLocked(from shared: any SharedStore) async throws {
        let after = sharing.withLock { $0.appliedItemChange }
        let (items, last) = try await shared.items(changedAfter: after)
        if !items.isEmpty { state.withLock { $0.upsert(items) } }
        sharing.withLock { $0.appliedItemChange = max($0.appliedItemChange, last) }
    }

    private func catchUpEvents(from shared: any SharedStore) async throws {
        try await exclusively {
            while true {
                let position = sharing.withLock { $0.appliedPosition }
                let page = try await store.page(after: position, limit: 10_000)
                if page.events.isEmpty { return }
                // The items these events name were committed before the events: read them first.
                try await catchUpItemsLocked(from: shared)
                let foreign = sharing.withLock { progress in
                    progress.appliedPosition = page.lastPosition
                    return page.events.filter { progress.ownEvents.remove($0.id) == nil }
                }
                let positive = state.withLock { state in foreign.map { state.apply($0) } }
                // Other servers' likes of items the model does not place count toward their vectors here too.
                noteFreshEngagements(foreign, positive: positive)
                // A profile reset on another server drops the user's vector here too.
                let reset = foreign.filter { $0.type == .profileReset }.map(\.user)
                if !reset.isEmpty { userVectors.withLock { cache in for user in reset { cache.remove(user) } } }
            }
        }
    }

    /// Serves the newest stored model when it is not the one serving (another process trained or
    /// installed it), after the same checks as at start; with no stored model, the rules serve.
    private func reloadModels() async throws {
        try await training.withLock {
            guard let newest = try await store.savedModels().first else {
                learned.withLock { $0 = nil }
                return
            }
            let current = learned.withLock { $0?.version }
            do {
                let serving = try servingModel(from: newest)
                guard serving.version != current else { return }
                learned.withLock { $0 = serving }
                try await recordAudit("model.loaded", details: serving.auditDetails)
            } catch let error as ForYouError {
                try await recordAudit("model.refused", details: ["reason": "\(error)"])
            }
        }
    }

    /// Rebuilds the state from the store (after an erasure by another process, whose effects on the
    /// aggregates this process cannot subtract without the erased events).
    private func reloadState() async throws {
        try await exclusively {
            try await servedWrites.withLock {
                let loaded = try await Self.loadState(from: store, configuration: configuration, clock: clock)
                state.withLock { $0 = loaded.state }
                userVectors.withLock { $0.removeAll() }
                // Who engaged with new items, and their vectors, may hold the erased user: start them again.
                learned.withLock { $0 }?.retrieval?.resetFresh()
                // Keys and models are not part of the rebuilt state: their generations stay as they were,
                // and they are caught up as those say.
                sharing.withLock { progress in
                    let generations = progress.generations
                    progress = loaded.progress
                    progress.generations = generations
                }
                erasures.withLock { $0 += 1 }
            }
        }
    }
}
