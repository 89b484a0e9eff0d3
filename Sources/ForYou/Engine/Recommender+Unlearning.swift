// SPDX-License-Identifier: Apache-2.0
//
// Erasure keeps the trained model: the erased user's contributions are removed from it (Unlearning.swift)
// and the result serves under a new version, instead of every local model being retired.
//
// An erasure deletes the user's data under the write lock as before, then queues the user's positive
// events for unlearning and waits for it. Unlearning runs outside the write lock (ingestion and feeds
// go on, feeds from the model as it was), one batch at a time: whoever takes the `unlearning` lock
// unlearns every user queued so far, so erasures arriving faster than one unlearning are handled
// together and the queue never grows without bound. The new model is stored in place of the old ones
// (whose files leave the disk at the compaction that follows), then swapped in under the write lock.
// If the serving model changed meanwhile: a model of the same training (another server's unlearning on
// a shared store) is unlearned again; a model trained since (which read the log after the erasure)
// never held the user.
//
// What the user's history was is rebuilt as training built it (TrainingHistories.swift), from their
// positive events up to the model's last training event (provenance `last_event_at`; an event logged
// after training but timed before it is taken as trained on: the log keeps no arrival time). With a
// re-ranking stage, the other users' histories are rebuilt from the log the same way, for the parts
// refitted on them. ALS's other engagers are those histories, or (without the stage, on large
// catalogues) the users' recent positive items in memory, at most
// ``Configuration/unlearningEngagersPerItem`` per item.
//
// The next training replaces every approximation (ALS's refitted items, the stage's kept weights): the
// scheduled one (`foryou serve --train-every`, default one hour) runs whenever the log changed, which an
// erasure does, so the approximations live at most one interval, however many users were unlearned.
//
// Lock order: `unlearning` → `writes` (``exclusively(_:)``) → `servedWrites` → `audit`.

import Synchronization

/// What an erasure did to the serving model.
public struct ModelUnlearning: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// The user's contributions were removed; the model serves under a new version.
        case unlearned
        /// The model was not trained on the user's events (or was retrained without them meanwhile).
        case unaffected
        /// A licensed package, trained elsewhere on none of this deployment's users, serves and is kept.
        case keptLicensed = "kept_licensed"
        /// The rules serve; stored local models (trained with the user) were deleted.
        case noModel = "no_model"
        /// The local models were retired (the rules serve until the next training): every user the model
        /// was trained on is erased, or unlearning failed.
        case retired
    }

    public var outcome: Outcome
    public var versionBefore: String?
    /// The version serving afterwards (`nil`: the rules).
    public var version: String?
    /// ALS item vectors refitted.
    public var refittedItems = 0
    /// Users unlearned from the serving model since it was trained, this one included.
    public var unlearnedUsersSinceTraining = 0
    /// Users unlearned together in this step (erasures that arrived meanwhile).
    public var usersInStep = 0
    public var subtracted: [String] = []
    public var refitted: [String] = []
    public var kept: [String] = []

    public init(outcome: Outcome, versionBefore: String? = nil, version: String? = nil) {
        self.outcome = outcome
        self.versionBefore = versionBefore
        self.version = version
    }
}

/// What an erasure did.
public struct Erasure: Sendable, Equatable {
    /// Events deleted.
    public var events: Int
    public var model: ModelUnlearning
}

/// Erased users waiting to be unlearned, and the outcomes of those done.
struct UnlearningQueue {
    struct Entry {
        var ticket: UInt64
        var user: UserID
        /// The user's events, read before they were deleted.
        var events: [Event]
    }
    var nextTicket: UInt64 = 0
    var pending: [Entry] = []
    var done: [UInt64: Result<ModelUnlearning, ForYouError>] = [:]

    mutating func enqueue(_ user: UserID, events: [Event]) -> UInt64 {
        nextTicket += 1
        pending.append(Entry(ticket: nextTicket, user: user, events: events))
        return nextTicket
    }
}

extension ServingModel {
    /// The last event time (ms) the model was trained on, from its provenance; `nil` when unknown.
    var trainingCutoff: Int64? { manifest?.provenance.lastEventAt.flatMap { Timestamp(rfc3339: $0)?.milliseconds } }

    /// The version it had when trained (unlearning changes the version, not this).
    var trainedVersion: String { manifest?.provenance.derivedFrom ?? learned.version }
}

extension Recommender {
    /// Waits until the erased user behind `ticket` is unlearned (by this call or by a batch another
    /// erasure ran), and returns what happened to the model.
    func awaitUnlearning(_ ticket: UInt64) async throws -> ModelUnlearning {
        try await unlearning.withLock {
            if let done = unlearningQueue.withLock({ $0.done.removeValue(forKey: ticket) }) { return try done.get() }
            let batch = unlearningQueue.withLock { queue in
                defer { queue.pending = [] }
                return queue.pending
            }
            let result: Result<ModelUnlearning, ForYouError>
            do {
                result = .success(try await unlearn(batch))
            } catch let error as ForYouError {
                result = .failure(error)
            }
            unlearningQueue.withLock { queue in
                for entry in batch where entry.ticket != ticket { queue.done[entry.ticket] = result }
            }
            return try result.get()
        }
    }

    /// Unlearns a batch of erased users from the serving model and swaps the result in. On a failure
    /// to compute or store it, the local models are retired (the rules serve; an erasure retried after
    /// its events are gone would find nothing left to unlearn), and the failure is thrown.
    private func unlearn(_ batch: [UnlearningQueue.Entry]) async throws -> ModelUnlearning {
        do {
            return try await unlearnOnce(batch)
        } catch {
            if let serving = learned.withLock({ $0 }), serving.licensedPackage == nil {
                try? await retire(serving, reason: "unlearning failed: \(error)")
            }
            throw error
        }
    }

    private func unlearnOnce(_ batch: [UnlearningQueue.Entry]) async throws -> ModelUnlearning {
        while true {
            guard let serving = learned.withLock({ $0 }) else {
                try await exclusively {
                    try await store.deleteModels()
                    try await store.compact()
                }
                return ModelUnlearning(outcome: .noModel)
            }
            if let package = serving.licensedPackage {
                // Older local models in the store were trained with the user: only the package stays.
                try await exclusively {
                    try await store.deleteModels()
                    try await store.saveModel(package, version: serving.version)
                    try await store.compact()
                }
                var outcome = ModelUnlearning(outcome: .keptLicensed, versionBefore: serving.version, version: serving.version)
                outcome.usersInStep = batch.count
                return outcome
            }
            let computed = try await unlearned(serving, batch)
            guard let (replacement, package, outcome) = computed else {
                try await exclusively { try await store.compact() }
                var unaffected = ModelUnlearning(outcome: .unaffected, versionBefore: serving.version, version: serving.version)
                unaffected.unlearnedUsersSinceTraining = serving.manifest?.provenance.unlearnedUsers ?? 0
                return unaffected
            }
            if replacement.learned.users == 0 {
                // Every user it was trained on is erased: nothing is left to serve.
                try await retire(serving, reason: "every user it was trained on is erased")
                var retired = ModelUnlearning(outcome: .retired, versionBefore: serving.version)
                retired.usersInStep = outcome.usersInStep
                return retired
            }
            let swapped = try await exclusively { () async throws -> Bool? in
                guard let current = learned.withLock({ $0 }) else { return nil }
                guard current === serving else {
                    // Another server's unlearning of the same training: unlearn these users from it too.
                    return current.licensedPackageID == nil && current.trainedVersion == serving.trainedVersion ? false : nil
                }
                try await store.deleteModels()
                try await store.saveModel(package.encoded(), version: replacement.learned.version)
                learned.withLock { $0 = replacement }
                try await store.compact()
                return true
            }
            switch swapped {
            case true?:
                var details = replacement.auditDetails
                details["derived_from"] = serving.version
                details["users"] = "\(outcome.usersInStep)"
                details["unlearned_users_since_training"] = "\(outcome.unlearnedUsersSinceTraining)"
                details["refitted_items"] = "\(outcome.refittedItems)"
                details["subtracted"] = outcome.subtracted.joined(separator: ",")
                details["refitted"] = outcome.refitted.joined(separator: ",")
                details["kept_until_next_training"] = outcome.kept.joined(separator: ",")
                try await recordAudit("model.unlearned", details: details)
                return outcome
            case false?:
                continue
            case nil:
                // A model trained after the erasure (it never read the user's events), or the rules. The
                // models stored before it were trained with the user: only the serving one stays.
                let current = try await exclusively { () async throws -> ServingModel? in
                    let current = learned.withLock { $0 }
                    try await store.deleteModels()
                    if let current { try await store.saveModel(Self.storedBytes(of: current), version: current.version) }
                    try await store.compact()
                    return current
                }
                return ModelUnlearning(outcome: current == nil ? .noModel : .unaffected, versionBefore: serving.version, version: current?.version)
            }
        }
    }

    /// The serving model without the batch's users, or `nil` when it held none of their events.
    private func unlearned(_ serving: ServingModel, _ batch: [UnlearningQueue.Entry]) async throws -> (ServingModel, AlgorithmPackage, ModelUnlearning)? {
        let learnedModel = serving.learned
        let durations = state.withLock { state in learnedModel.items.map { state.item($0)?.durationMilliseconds ?? 0 } }
        var erasedEvents = TrainingHistories(signals: configuration.signals, index: serving.index, durations: durations, through: serving.trainingCutoff)
        for entry in batch { for event in entry.events { erasedEvents.add(event) } }
        let erasedByUser = erasedEvents.histories()
        let erased = batch.map(\.user).filter { erasedByUser[$0] != nil }.map { erasedByUser[$0]! }
        guard !erased.isEmpty else { return nil }
        let erasedUsers = Set(batch.map(\.user))
        var model = learnedModel.model
        // With the stage: every other history as the training built it, for the parts refitted on them.
        var remaining: [[Int32]]?
        if model.reRanker != nil {
            var others = TrainingHistories(signals: configuration.signals, index: serving.index, durations: durations, through: serving.trainingCutoff)
            var position: Int64 = 0
            while true {
                let page = try await store.page(after: position, limit: 10_000)
                if page.events.isEmpty { break }
                for event in page.events where !erasedUsers.contains(event.user) { others.add(event) }
                position = page.lastPosition
            }
            let histories = others.histories()
            remaining = histories.keys.sorted().map { histories[$0]! }
        }
        let affected = Set(erased.joined())
        let engagers = alsEngagers(of: affected, serving, remaining: remaining)
        let gramian = estimateUserGramian(serving)
        let report = await model.unlearn(erased: erased, remaining: remaining, engagers: engagers, userGramian: gramian)
        let unlearnedBefore = serving.manifest?.provenance.unlearnedUsers ?? 0
        let users = max(0, learnedModel.users - erased.count)
        let events = max(0, learnedModel.events - erasedEvents.events)
        let replacementModel = LearnedModel(trainedAt: learnedModel.trainedAt, users: users, events: events, items: learnedModel.items, model: model)
        var provenance = serving.manifest?.provenance ?? Provenance(
            origin: "local", jurisdiction: configuration.jurisdiction.rawValue, trainedAt: learnedModel.trainedAt.rfc3339, users: learnedModel.users,
            events: learnedModel.events, items: learnedModel.items.count, fromScratch: true)
        provenance.users = users
        provenance.events = events
        provenance.unlearnedUsers = unlearnedBefore + erased.count
        provenance.derivedFrom = serving.trainedVersion
        let package = AlgorithmPackage(model: replacementModel, provenance: provenance, license: nil)
        let replacement = ServingModel(replacementModel, manifest: package.manifest, feed: configuration.feed)
        replacement.adoptRetrieval(from: serving, changedRows: report.refittedItems)
        var outcome = ModelUnlearning(outcome: .unlearned, versionBefore: serving.version, version: replacement.version)
        outcome.refittedItems = report.refittedItems.count
        outcome.unlearnedUsersSinceTraining = unlearnedBefore + erased.count
        outcome.usersInStep = erased.count
        outcome.subtracted = report.subtracted
        outcome.refitted = report.refitted
        outcome.kept = report.kept
        return (replacement, package, outcome)
    }

    /// The remaining engagers of each affected item, as ALS vectors folded in from their histories:
    /// the rebuilt training histories when given, else the users' recent positive items in memory; at
    /// most ``Configuration/unlearningEngagersPerItem`` each, standing for all of them.
    private func alsEngagers(of items: Set<Int32>, _ serving: ServingModel, remaining: [[Int32]]?) -> [Int32: ALSModel.Engagers] {
        let als = serving.learned.model.als
        let limit = configuration.unlearningEngagersPerItem
        if let remaining { return als.engagers(of: items, in: remaining, limit: limit) }
        // Recent items are catalogue indices: find the users holding an affected one by those first,
        // and look up model indices (by id) for them alone.
        let affectedCatalogue = state.withLock { state in
            Set(items.compactMap { state.catalog.itemIndex[serving.learned.items[Int($0)]] })
        }
        let userIDs = state.withLock { Array($0.users.keys) }
        var histories: [[Int32]] = []
        // In chunks, so feeds wait for the state lock at most one chunk's time.
        for start in stride(from: 0, to: userIDs.count, by: 4_096) {
            histories += state.withLock { state in
                userIDs[start..<min(userIDs.count, start + 4_096)].compactMap { user -> [Int32]? in
                    guard let recent = state.users[user]?.recent, recent.contains(where: { affectedCatalogue.contains($0.item) }) else { return nil }
                    return recent.compactMap { serving.index[state.catalog.items[Int($0.item)].id] }
                }
            }
        }
        return als.engagers(of: items, in: histories, limit: limit)
    }

    /// The file a serving model is stored as: a licensed package's own bytes, else the local package
    /// training wrote (the same bytes: its model and provenance).
    static func storedBytes(of serving: ServingModel) -> [UInt8] {
        if let package = serving.licensedPackage { return package }
        guard let provenance = serving.manifest?.provenance else { return serving.learned.encoded() }
        return AlgorithmPackage(model: serving.learned, provenance: provenance, license: nil).encoded()
    }

    /// Retires the local models (no user is left, or unlearning could not be completed): the rules serve
    /// until the next training, and the reason is audited.
    private func retire(_ serving: ServingModel, reason: String) async throws {
        try await exclusively {
            if learned.withLock({ $0 === serving }) { learned.withLock { $0 = nil } }
            try await store.deleteModels()
            try await store.compact()
        }
        var details = serving.auditDetails
        details["reason"] = reason
        try await recordAudit("model.retired", details: details)
    }
}
