// SPDX-License-Identifier: Apache-2.0
//
// Training a model from the event log and swapping it in. Training reads the log page by page and
// fits off to the side: feeds keep being served from the current model (or the rules) while it runs,
// and never wait for it. The new model is stored first, then swapped in with one pointer write, so a
// feed request uses either the old model or the new one, never a mix.

import Crypto
import Synchronization

/// A model ready to serve: the learned model, its item index, and the package it came in.
final class ServingModel: Sendable {
    let learned: LearnedModel
    let index: [ItemID: Int32]
    /// The package's manifest (provenance, license); `nil` for a model file of an earlier version.
    let manifest: PackageManifest?
    /// The package id of a licensed package; `nil` for a local model.
    let licensedPackageID: String?
    /// A licensed package's file, kept so it can be stored again after an erasure retires local models.
    let licensedPackage: [UInt8]?
    /// The end of a licensed package's license (ms since the epoch): feeds check it on every request.
    let licenseEnd: Int64?
    /// Whether the model covers enough items (``Recommender/FeedConfiguration/indexedRetrievalMinimumItems``)
    /// to retrieve from an index rather than score every item.
    let wantsIndex: Bool
    private let indexConfiguration: HNSWIndex.Configuration
    /// The item factors in an HNSW index, once built (see ``buildRetrieval()``); `nil` before, and
    /// always for a small model, whose feeds score every item.
    var retrieval: LearnedRetrieval? { retrievalSlot.withLock { $0 } }
    private let retrievalSlot = Mutex<LearnedRetrieval?>(nil)
    private let retrievalClaimed = Mutex(false)

    init(
        _ learned: LearnedModel, manifest: PackageManifest? = nil, licensedPackageID: String? = nil, licensedPackage: [UInt8]? = nil,
        feed: Recommender.FeedConfiguration
    ) {
        self.learned = learned
        wantsIndex = learned.items.count >= feed.indexedRetrievalMinimumItems
        indexConfiguration = feed.index
        self.manifest = manifest
        self.licensedPackageID = licensedPackageID
        self.licensedPackage = licensedPackage
        licenseEnd = licensedPackageID == nil ? nil : manifest?.license.flatMap { Timestamp(rfc3339: $0.notAfter)?.milliseconds }
        index = Dictionary(uniqueKeysWithValues: learned.items.enumerated().map { ($1, Int32($0)) })
    }

    /// Builds the index now, unless it was built or is being built. Training calls it before the swap;
    /// a model loaded otherwise gets it from the first feed, in the background (see
    /// ``retrievalOrStartBuilding()``). Listing or comparing models never builds one.
    /// - Complexity: O(N · efConstruction · M · log N) inner products (minutes at a million items).
    func buildRetrieval() {
        guard wantsIndex, retrievalClaimed.withLock({ claimed in
            defer { claimed = true }
            return !claimed
        }) else { return }
        // On failure (it cannot fail for finite factors) feeds keep scoring every item.
        let built = try? LearnedRetrieval(learned.model, configuration: indexConfiguration)
        retrievalSlot.withLock { $0 = built }
    }

    /// The index if built; otherwise starts building it in the background and returns nil, so this
    /// feed (and the next ones, until it is ready) score every item instead of waiting.
    func retrievalOrStartBuilding() -> LearnedRetrieval? {
        if let built = retrieval { return built }
        if wantsIndex && !retrievalClaimed.withLock({ $0 }) { Task.detached { self.buildRetrieval() } }
        return nil
    }

    /// Serves `previous`'s index (built or being built: then this model builds its own) after updating
    /// it to this model's factors of `changedRows` (an unlearned model differs from the one it came
    /// from in those rows alone), so an erasure never waits for an index build.
    func adoptRetrieval(from previous: ServingModel, changedRows: [Int32]) {
        guard wantsIndex, let retrieval = previous.retrieval else { return }
        guard (try? retrieval.adopt(learned.model, changedRows: changedRows)) != nil else { return }
        retrievalClaimed.withLock { $0 = true }
        retrievalSlot.withLock { $0 = retrieval }
    }

    /// What feeds report as `model_version`: the model's version, and for a licensed package its id.
    var version: String { licensedPackageID.map { "\(learned.version)+pkg.\($0)" } ?? learned.version }

    var auditDetails: [String: String] {
        var details = ["model_version": version, "origin": manifest?.provenance.origin ?? "local"]
        if let license = manifest?.license {
            details["licensee"] = license.licensee
            details["licensor"] = license.licensor
            details["not_after"] = license.notAfter
        }
        return details
    }
}

extension Recommender {
    /// What a model was trained on and how it was configured.
    public struct ModelInfo: Sendable, Equatable {
        public var version: String
        public var trainedAt: Timestamp
        public var users: Int
        public var events: Int
        public var items: Int
        public var transitionsWeight: Float
        public var description: String
        /// What it was trained on; `nil` for a model file of an earlier version.
        public var provenance: Provenance?
        /// The license of a licensed package; `nil` for a local model.
        public var license: License?
        /// The package id of a licensed package.
        public var packageID: String?
        public var hyperparameters: BlendHyperparameters
    }

    /// The model feeds use now, or `nil` while the rules serve.
    public var currentModel: ModelInfo? {
        learned.withLock { $0 }.map(Self.info)
    }

    static func info(_ serving: ServingModel) -> ModelInfo {
        let model = serving.learned
        return ModelInfo(
            version: serving.version, trainedAt: model.trainedAt, users: model.users, events: model.events, items: model.items.count,
            transitionsWeight: model.model.transitionsWeight, description: model.model.name, provenance: serving.manifest?.provenance,
            license: serving.manifest?.license, packageID: serving.licensedPackageID, hyperparameters: BlendHyperparameters(model.model))
    }

    /// A stored model file as a serving model: a local package, a licensed package that verifies now, or
    /// a bare model file of an earlier version.
    func servingModel(from bytes: [UInt8]) throws -> ServingModel {
        guard AlgorithmPackage.isPackage(bytes) else { return ServingModel(try LearnedModel(encoded: bytes), feed: configuration.feed) }
        let package = try AlgorithmPackage(encoded: bytes)
        if package.signature == nil && package.manifest.license == nil && package.manifest.provenance.origin == "local" {
            return ServingModel(try package.model(), manifest: package.manifest, feed: configuration.feed)
        }
        let model = try verifier.verify(package, use: "serve", now: clock.now())
        return ServingModel(model, manifest: package.manifest, licensedPackageID: package.id, licensedPackage: bytes, feed: configuration.feed)
    }

    /// The verifier of this deployment's trusted licensor keys and jurisdiction.
    var verifier: PackageVerifier { PackageVerifier(trustedKeys: configuration.licensorKeys, jurisdiction: configuration.jurisdiction) }

    /// Trains the default model (item transitions blended with ALS, with the learned re-ranking stage
    /// on catalogues up to ``Configuration/learnedReRankingMaximumItems``) on every positive event in
    /// the log, stores it, and swaps it in. The hyperparameters are those of the serving licensed package when
    /// its license permits `retrain` and `fromScratch` is `false`; otherwise they are chosen on an inner
    /// leave-last-out split of local data alone (when there are at least 10 users with 3 or more positive
    /// items). The model's provenance records which, with a digest of the training data.
    /// - Parameters:
    ///   - fromScratch: train on local data alone, ignoring any licensed package.
    ///   - hyperparameters: the operator's fixed hyperparameters: no search (which fits many models and
    ///     is slow on a large log) and no licensed package's. Provenance says `hyperparameters_from: operator`.
    ///   - actor: who asked, for the audit log.
    ///   - progress: called with a line per step, for logs.
    /// - Returns: the new model's description.
    /// - Throws: ``ForYouError/Code/conflict`` when there is nothing to learn from yet, or when a user
    ///   was erased while the model trained (train again); store errors.
    @discardableResult
    public func train(
        fromScratch: Bool = false, hyperparameters: BlendHyperparameters? = nil, actor: String = "system",
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> ModelInfo {
        try hyperparameters?.validate()
        return try await training.withLock {
            let now = clock.now().milliseconds
            let licensed = fromScratch || hyperparameters != nil ? nil : learned.withLock { $0 }.flatMap { serving -> (String, BlendHyperparameters)? in
                guard let id = serving.licensedPackageID, let manifest = serving.manifest,
                    manifest.license?.permittedUses.contains("retrain") == true, now <= serving.licenseEnd ?? .max
                else { return nil }
                return (id, manifest.hyperparameters)
            }
            let erasuresBefore = erasures.withLock { $0 }
            // On a shared store, an erasure on another server counts too (even one this process has not
            // heard of yet, or when it follows nothing, as `foryou train --store` does).
            let sharedErasuresBefore = try await (store as? any SharedStore)?.generations()[.erasure]
            let (items, durations, catalogueIndex) = state.withLock { state in
                (state.catalog.items.map(\.id), state.catalog.items.map(\.durationMilliseconds), state.catalog.itemIndex)
            }
            // Each user's positive items in event time order (log order breaks ties), each item once.
            var taken = TrainingHistories(signals: configuration.signals, index: catalogueIndex, durations: durations)
            var position: Int64 = 0
            while true {
                let page = try await store.page(after: position, limit: 10_000)
                if page.events.isEmpty { break }
                for event in page.events { taken.add(event) }
                position = page.lastPosition
            }
            guard taken.events > 0 else {
                throw ForYouError(.conflict, "no positive events to learn from yet; ingest views, likes or shares first")
            }
            let histories = taken.histories()
            let events = taken.events
            let (firstAt, lastAt) = (taken.firstAt, taken.lastAt)
            let digest = taken.digest
            let users = histories.keys.sorted()
            let sequences = users.map { histories[$0]! }
            progress("training on \(events) positive events of \(users.count) users over \(items.count) items")
            var model = BlendModel(transitions: .init(), als: .init(), transitionsWeight: 0.5)
            var validation: Double?
            var validationUsers = 0
            if let hyperparameters {
                progress("training with the operator's hyperparameters")
                model = hyperparameters.makeModel()
            } else if let (packageID, hyperparameters) = licensed {
                let inner = LeaveLastOutSplit(InteractionSequences(items: items.map(\.rawValue), users: users.map(\.rawValue), sequences: sequences))
                validationUsers = inner.users.count
                progress("reusing the hyperparameters of licensed package \(packageID)")
                model = hyperparameters.makeModel()
                if inner.users.count >= 10 { validation = await OfflineEvaluation.validate(model, on: inner).ndcgAt10 }
            } else if items.count <= configuration.learnedReRankingMaximumItems, sequences.lazy.filter({ $0.count >= 3 }).count >= 10 {
                progress("training the learned re-ranking stage over \(LearnedBlend.Component.allCases.count) models")
                model = BlendModel(reRanking: LearnedBlendModel.Configuration())
            } else {
                let inner = LeaveLastOutSplit(InteractionSequences(items: items.map(\.rawValue), users: users.map(\.rawValue), sequences: sequences))
                validationUsers = inner.users.count
                if inner.users.count >= 10 {
                    (model, validation) = await OfflineEvaluation.selectDefaultModelScored(on: inner, progress: progress)
                }
            }
            await model.fit(sequences: sequences, itemCount: items.count, progress: progress)
            if validation == nil, let selection = model.reRanker?.selection, !selection.isEmpty {
                // The stage's own measure: NDCG@10 of the held-out users' held-out targets.
                validation = selection.blendedNDCGAt10
                validationUsers = selection.heldOutUsers
            }
            let trainedAt = clock.now()
            let learnedModel = LearnedModel(trainedAt: trainedAt, users: users.count, events: events, items: items, model: model)
            var provenance = Provenance(
                origin: "local", jurisdiction: configuration.jurisdiction.rawValue, trainedAt: trainedAt.rfc3339, users: users.count,
                events: events, items: items.count, firstEventAt: Timestamp(milliseconds: firstAt).rfc3339,
                lastEventAt: Timestamp(milliseconds: lastAt).rfc3339, datasetSHA256: digest.finalize().hexString,
                fromScratch: licensed == nil, hyperparametersFrom: licensed?.0 ?? (hyperparameters == nil ? nil : "operator"))
            provenance.validationNDCGAt10 = validation
            provenance.validationUsers = validation == nil ? nil : validationUsers
            let package = AlgorithmPackage(model: learnedModel, provenance: provenance, license: nil)
            let serving = ServingModel(learnedModel, manifest: package.manifest, feed: configuration.feed)
            serving.buildRetrieval()  // beside the serving model, before the swap
            // Stored and swapped under the write lock, so no erasure can slip between the check and the save.
            try await exclusively {
                let sharedErasuresNow = try await (store as? any SharedStore)?.generations()[.erasure]
                guard erasures.withLock({ $0 }) == erasuresBefore, sharedErasuresNow == sharedErasuresBefore else {
                    throw ForYouError(.conflict, "a user was erased while the model trained on their events; train again")
                }
                try await store.saveModel(package.encoded(), version: learnedModel.version)
                inheritFreshEngagement(serving, from: learned.withLock { $0 })
                learned.withLock { $0 = serving }
            }
            var details = serving.auditDetails
            details["from_scratch"] = "\(provenance.fromScratch)"
            details["dataset_sha256"] = provenance.datasetSHA256
            details["events"] = "\(events)"
            try await recordAudit("model.trained", actor: actor, details: details)
            progress("serving \(learnedModel.version): \(model.name)")
            return Self.info(serving)
        }
    }
}
