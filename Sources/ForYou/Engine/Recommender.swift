// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The feed engine: ingests items and events, learns from every event at once, and serves ranked,
/// diverse feeds. The HTTP server and the CLI are thin shells over this type.
///
/// ```swift
/// let engine = try await Recommender.open(store: MemoryStore())
/// try await engine.upsertItems([ItemInput(id: "v1", creator: "c1", tags: ["cats"], durationMilliseconds: 15_000)])
/// let result = try await engine.ingest([EventInput(id: "e1", user: "u1", item: "v1", type: "like")])
/// let feed = try await engine.feed(for: "u1", count: 10)
/// ```
///
/// Concurrency: all derived state is one value behind a mutex, which feeds hold only while they compute.
/// Writes (ingest, upsert, erase) are serialised by an async lock around "write the store, then update
/// the state", so an acknowledged event is durable, already visible to the user's next feed request,
/// and folded in the same order as it sits in the log.
public final class Recommender: Sendable {
    /// The rule set that builds feeds before a model is trained; reported as `model_version`.
    public static let modelVersion = "rules-v1"

    public let configuration: Configuration
    let store: any ForYouStore
    let clock: any WallClock
    let state: StateLock<EngineState>
    let counters = Mutex(Statistics())
    /// Serialises durable writes: an event batch's append (its fold follows on `folds`, in the same
    /// order), and every other write with the state update that follows it (upsert, erase, ...), so
    /// the state changes in log order and is rebuilt identically on reopen.
    let writes = AsyncLock()
    /// Folds appended event batches into the state in log order, off Swift's cooperative pool (see
    /// `FoldQueue`). Writers other than ingestion drain it first: ``exclusively(_:)``.
    let folds = FoldQueue()

    /// Runs `body` holding `writes` once every appended event batch is folded in: how every writer but
    /// ingestion writes, so it sees the log and the state agree and no fold runs while it changes them.
    func exclusively<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        try await writes.withLock {
            await folds.drain()
            return try await body()
        }
    }
    /// Serialises served-history writes with erasure, so an erased user's feed is never recorded after it.
    let servedWrites = AsyncLock()
    /// The trained model feeds use, swapped atomically; `nil` until one is trained or loaded.
    let learned = Mutex<ServingModel?>(nil)
    /// Serialises trainings.
    let training = AsyncLock()
    /// Users' ALS vectors for the serving model, when it retrieves from an index (see `UserVectorCache`).
    let userVectors = Mutex(UserVectorCache())
    /// Counts erasures, so a training that read the log before one knows its model is stale.
    let erasures = Mutex(0)
    /// Serialises unlearning batches (see `Recommender+Unlearning.swift`); taken before `writes`.
    let unlearning = AsyncLock()
    /// Erased users waiting to be unlearned from the serving model.
    let unlearningQueue = Mutex(UnlearningQueue())
    /// When idle users are next swept (see `Recommender+Expiry.swift`).
    let userExpiry = Mutex(UserExpiry())
    /// Why stored models could not be loaded when the engine opened, if any could not.
    public var modelLoadProblem: String? { loadProblem.withLock { $0 } }
    private let loadProblem = Mutex<String?>(nil)
    /// The active API keys.
    let keyring: Mutex<APIKeyring>
    /// Serialises audit appends, so the chain has one head: (next sequence number, hash of the last entry).
    let audit = AsyncLock()
    let auditHead: Mutex<(sequence: Int, hash: String)>
    /// How far this engine has followed a shared store (see `Recommender+Sharing.swift`).
    let sharing = Mutex(SharingProgress())
    /// Serialises catching up with a shared store's generations.
    let catchingUp = AsyncLock()

    private init(
        store: any ForYouStore, configuration: Configuration, clock: any WallClock, state: EngineState, model: ServingModel?,
        keys: [APIKeyRecord], auditHead: (sequence: Int, hash: String)
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.state = StateLock(state)
        self.keyring = Mutex(APIKeyring(keys))
        self.auditHead = Mutex(auditHead)
        learned.withLock { $0 = model }
    }

    /// Opens the engine on a store, rebuilding all derived state from it, and prunes served history
    /// older than the no-repeat window. A store is bound to the jurisdiction it was first opened for.
    /// - Complexity: O(E + S) for E logged events and S served records within the no-repeat window.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a bad configuration; ``ForYouError/Code/conflict``
    ///   when the store belongs to another jurisdiction; store errors.
    public static func open(
        store: any ForYouStore, configuration: Configuration = Configuration(), clock: any WallClock = SystemWallClock()
    ) async throws -> Recommender {
        try configuration.validate()
        if let stored = try await store.setting("jurisdiction") {
            guard stored == configuration.jurisdiction.rawValue else {
                throw ForYouError(
                    .conflict,
                    "this data belongs to jurisdiction \(stored) and cannot be served as \(configuration.jurisdiction); start with --jurisdiction \(stored)")
            }
        } else {
            try await store.setSetting("jurisdiction", to: configuration.jurisdiction.rawValue)
        }
        // Served history older than the no-repeat window has no use: drop it; the rest is replayed.
        let since = clock.now().advanced(byMilliseconds: -configuration.feed.noRepeatWindowMilliseconds)
        _ = try await store.pruneServed(before: since)
        let loaded = try await loadState(from: store, configuration: configuration, clock: clock)
        let lines = try await store.auditLines()
        // The chain continues from the last entry that parses; a damaged line stays where it is, for
        // `audit verify` to report.
        var head = (sequence: 1, hash: AuditChain.genesis)
        if let (entry, hash) = lines.reversed().lazy.compactMap(AuditChain.parse).first { head = (entry.sequence + 1, hash) }
        let engine = Recommender(
            store: store, configuration: configuration, clock: clock, state: loaded.state, model: nil,
            keys: try await store.apiKeys(), auditHead: head)
        engine.sharing.withLock { $0 = loaded.progress }
        // The newest stored model that may serve: a local model, or a package whose signature and license
        // still hold. Refusals are audited; with none left, the rules serve.
        var problems: [String] = []
        for bytes in try await store.savedModels() {
            do {
                let serving = try engine.servingModel(from: bytes)
                engine.learned.withLock { $0 = serving }
                try await engine.recordAudit("model.loaded", details: serving.auditDetails)
                break
            } catch {
                problems.append("a stored model was not loaded (\(error))")
                try await engine.recordAudit("model.refused", details: ["reason": "\(error)"])
            }
        }
        let digest = engine.transparencyReport().parametersDigest
        try await engine.recordAudit("engine.opened", details: ["jurisdiction": configuration.jurisdiction.rawValue, "configuration": digest])
        // A start with other ranking parameters than the last one is a configuration change: audited
        // with both digests (the transparency report lists the parameters behind them).
        let previous = try await store.setting("configuration_digest")
        if previous != digest {
            if let previous {
                try await engine.recordAudit("configuration.changed", details: ["from": previous, "to": digest])
            }
            try await store.setSetting("configuration_digest", to: digest)
        }
        if !problems.isEmpty {
            let problem = problems.joined(separator: "; ") + (engine.currentModel == nil ? "; serving \(modelVersion) until one is trained" : "")
            engine.loadProblem.withLock { $0 = problem }
        }
        return engine
    }

    /// Running counts, for metrics.
    public struct Statistics: Sendable, Equatable {
        public var eventsAccepted = 0
        public var eventsDuplicate = 0
        public var eventsRejected = 0
        public var itemsUpserted = 0
        public var feedsServed = 0
        public var usersErased = 0
        /// Records refused because they belong to another jurisdiction (never stored).
        public var refusedWrongJurisdiction = 0
        /// Algorithm packages refused at install.
        public var packagesRefused = 0
        /// Feeds whose served history could not be written (a full disk): the feed was still answered.
        public var servedHistoryWriteFailures = 0
        /// User vectors folded in for indexed retrieval, held now, and expired unused.
        public var userVectorFoldIns = 0
        public var userVectorsHeld = 0
        public var userVectorsExpired = 0
        /// Items the model does not know that hold a collaborative vector now, and how many such vectors
        /// were computed since the model started serving.
        public var freshItemVectors = 0
        public var freshItemRefits = 0
        /// (hour, item) entries of items' statistics per region and hour held now.
        public var itemStatisticsEntries = 0
        /// Users held now, and users whose learned profile expired after being idle (since the engine opened).
        public var usersHeld = 0
        public var usersExpired = 0
    }

    /// Counts since the engine opened.
    public var statistics: Statistics {
        var statistics = counters.withLock { $0 }
        userVectors.withLock {
            statistics.userVectorFoldIns = $0.foldIns
            statistics.userVectorsHeld = $0.entries.count
            statistics.userVectorsExpired = $0.expired
        }
        (statistics.itemStatisticsEntries, statistics.usersHeld) = state.withLock { ($0.statistics.entryCount, $0.users.count) }
        statistics.usersExpired = userExpiry.withLock { $0.expired }
        if let counts = learned.withLock({ $0 })?.retrieval?.freshCounts {
            (statistics.freshItemVectors, statistics.freshItemRefits) = counts
        }
        return statistics
    }

    /// The catalogued items of a feed, in its order (one lock for all of them).
    public func items(of feed: Feed) -> [Item?] {
        state.withLock { state in feed.entries.map { state.item($0.item) } }
    }

    /// How many items, users and creators the engine knows.
    public var sizes: (items: Int, users: Int, creators: Int) {
        state.withLock { ($0.catalog.count, $0.users.count, $0.catalog.creators.count) }
    }
}
