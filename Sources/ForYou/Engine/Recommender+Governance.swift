// SPDX-License-Identifier: Apache-2.0
//
// Accountability and sovereignty on the engine: the audit log, API keys, users' explicit controls
// (topics, keyword filters, the non-profiled setting, reset), the data export, and licensed algorithm
// packages. Each action that changes what the engine does, or reads a user's data, is audited.

import Crypto
import Synchronization

extension Recommender {
    // MARK: - Audit log

    /// Appends an audit entry, chained to the one before. Users are named only by their pseudonym.
    /// - Parameters:
    ///   - kind: what happened, for example `user.erased`.
    ///   - actor: `system`, `cli`, or `key:<id>`.
    ///   - user: the user concerned, written as their pseudonym.
    func recordAudit(_ kind: String, actor: String = "system", user: UserID? = nil, details: [String: String] = [:]) async throws {
        let subject: String?
        if let user { subject = Pseudonym.of(user, key: try await store.pseudonymKey(of: user)) } else { subject = nil }
        try await audit.withLock {
            // On a shared store another process may have appended since this one did: the store refuses a
            // line that does not continue its chain, and the entry is rebuilt on the stored head.
            for attempt in 1... {
                let head = auditHead.withLock { $0 }
                let entry = AuditEntry(
                    sequence: head.sequence, at: clock.now().rfc3339, kind: kind, actor: actor, subject: subject, details: details,
                    previous: head.hash)
                let (line, hash) = AuditChain.line(for: entry)
                do {
                    try await store.appendAuditLine(line)
                    auditHead.withLock { $0 = (head.sequence + 1, hash) }
                    return
                } catch let error as ForYouError where error.code == .conflict && attempt < 20 {
                    guard let shared = store as? any SharedStore else { throw error }
                    let latest = try await shared.latestAuditLine().flatMap(AuditChain.parse)
                    auditHead.withLock { $0 = latest.map { ($0.entry.sequence + 1, $0.hash) } ?? (1, AuditChain.genesis) }
                }
            }
        }
    }

    /// The audit log's lines, oldest first, and whether the chain is intact.
    public func auditLog() async throws -> (lines: [String], verification: AuditVerification) {
        let lines = try await audit.withLock { try await store.auditLines() }
        return (lines, AuditChain.verify(lines: lines))
    }

    /// The pseudonym audit entries use for a user (for an operator answering that user's request).
    public func pseudonym(of user: String) async throws -> String {
        let userID = try UserID(validating: user, field: "user")
        return Pseudonym.of(userID, key: try await store.pseudonymKey(of: userID))
    }

    // MARK: - API keys

    /// Whether requests must carry an API key: true as soon as a key was ever created (also after every
    /// key was revoked, so revoking cannot open the API again).
    public var requiresAuthentication: Bool { keyring.withLock { $0.isRequired } }

    /// The active key a presented key text belongs to, or `nil`.
    public func authenticate(_ presented: String) -> APIKeyRecord? { keyring.withLock { $0.authenticate(presented) } }

    /// Creates a key; the returned text is shown once and never stored.
    public func createAPIKey(
        name: String, role: APIRole, limits: APIKeyLimits = APIKeyLimits(), actor: String = "cli"
    ) async throws -> (key: String, record: APIKeyRecord) {
        guard (1...64).contains(name.utf8.count) else { throw ForYouError(.invalidArgument, "`name` must be 1...64 bytes") }
        try IdentifierRules.validate(name, field: "name")
        try limits.validate()
        let created = APIKeyring.generate(name: name, role: role, limits: limits, now: clock.now())
        try await exclusively {
            try await store.saveAPIKey(created.record)
            try await reloadKeys()
        }
        var details = ["key_id": created.record.id, "role": role.rawValue, "name": name]
        if let rate = limits.requestsPerSecond { details["rate_limit"] = "\(rate)" }
        if let bytes = limits.maximumBodyBytes { details["max_body_bytes"] = "\(bytes)" }
        try await recordAudit("key.created", actor: actor, details: details)
        return created
    }

    /// Revokes a key at once.
    /// - Throws: ``ForYouError/Code/notFound`` for an unknown id.
    public func revokeAPIKey(id: String, actor: String = "cli") async throws {
        let revoked = try await exclusively {
            guard var record = try await store.apiKeys().first(where: { $0.id == id }) else {
                throw ForYouError(.notFound, "no API key has the id \(id)")
            }
            guard record.revokedAt == nil else { return false }
            record.revokedAt = clock.now()
            try await store.saveAPIKey(record)
            try await reloadKeys()
            return true
        }
        guard revoked else { return }
        try await recordAudit("key.revoked", actor: actor, details: ["key_id": id])
    }

    /// Every key record (never the key texts).
    public func apiKeys() async throws -> [APIKeyRecord] { try await store.apiKeys() }

    func reloadKeys() async throws {
        let records = try await store.apiKeys()
        keyring.withLock { $0 = APIKeyring(records) }
    }

    // MARK: - User controls

    /// A user's explicit controls (defaults for an unknown user).
    public func controls(of user: String) throws -> UserControls {
        let userID = try UserID(validating: user, field: "user")
        return state.withLock { $0.controls[userID] ?? UserControls() }
    }

    /// Replaces a user's topics, keyword filters and non-profiled setting; keeps `resetAt`.
    /// - Throws: ``ForYouError/Code/invalidValue`` naming the field.
    @discardableResult
    public func setControls(of user: String, to controls: UserControls, actor: String = "system") async throws -> UserControls {
        let userID = try UserID(validating: user, field: "user")
        try controls.validate()
        // Stored and audited under the write lock, so an erasure cannot run in between and leave a
        // pseudonym key (which holds the user id) behind.
        return try await exclusively {
            var updated = controls
            updated.resetAt = state.withLock { $0.controls[userID]?.resetAt }
            try await store.saveUserControls(updated, of: userID)
            state.withLock { $0.controls[userID] = updated }
            try await recordAudit(
                "user.controls_changed", actor: actor, user: userID,
                details: ["personalized": "\(updated.personalized)", "topics": "\(updated.topics.count)", "keyword_filters": "\(updated.keywordFilters.count)"])
            return updated
        }
    }

    /// "Reset my feed": the learned profile (recent items, tag and creator affinities) forgets every
    /// event so far; follows, not-interested marks, controls and served history stay. The reset is an
    /// event in the log, so it holds after a restart.
    public func resetProfile(of user: String, actor: String = "system") async throws {
        let userID = try UserID(validating: user, field: "user")
        let now = clock.now()
        var random = SystemRandomNumberGenerator()
        let id = EventID(trusted: "profile-reset-\(now.milliseconds)-\(random.next() & 0xFFFF_FFFF)")
        let event = Event(id: id, user: userID, item: nil, type: .profileReset, at: now)
        try await exclusively {
            _ = try await store.append([event])
            noteOwnEvents([event])
            var controls = state.withLock { $0.controls[userID] ?? UserControls() }
            controls.resetAt = now
            try await store.saveUserControls(controls, of: userID)
            state.withLock {
                $0.apply(event)
                $0.controls[userID] = controls
            }
            userVectors.withLock { $0.remove(userID) }
            try await recordAudit("user.profile_reset", actor: actor, user: userID)
        }
    }

    // MARK: - Profile and export

    /// What the engine believes about a user now: the learned profile and the user's explicit choices.
    public struct UserProfile: Sendable {
        /// Tag and creator affinities, relative (compare them with each other), strongest first.
        public var tagAffinities: [(tag: String, weight: Float)]
        public var creatorAffinities: [(creator: CreatorID, weight: Float)]
        public var followedCreators: [CreatorID]
        public var notInterestedItems: [ItemID]
        public var notInterestedCreators: [CreatorID]
        /// How many recent positive items seed the user's candidates.
        public var recentPositives: Int
        public var controls: UserControls
    }

    /// The user's learned profile (empty for an unknown user). Reads no store.
    public func profile(of user: String) throws -> UserProfile {
        let userID = try UserID(validating: user, field: "user")
        let now = clock.now().milliseconds
        return state.withLock { state in
            var user = state.users[userID] ?? UserState()
            if user.profileExpired(now: now, expiry: configuration.feed.userProfileExpiryMilliseconds) { user.forgetProfile() }
            let scale = max(user.affinityScale, .leastNormalMagnitude)
            let catalog = state.catalog
            return UserProfile(
                tagAffinities: user.tagAffinity.map { (tag: catalog.tags[Int($0.key)], weight: $0.value / scale) }
                    .sorted { ($0.weight, $1.tag) > ($1.weight, $0.tag) },
                creatorAffinities: user.creatorAffinity.map { (creator: catalog.creators[Int($0.key)], weight: $0.value / scale) }
                    .sorted { ($0.weight, $1.creator.rawValue) > ($1.weight, $0.creator.rawValue) },
                followedCreators: user.followedCreators.map { catalog.creators[Int($0)] }.sorted(),
                notInterestedItems: user.blockedItems.map { catalog.items[Int($0)].id }.sorted(),
                notInterestedCreators: user.blockedCreators.map { catalog.creators[Int($0)] }.sorted(),
                recentPositives: user.recent.count,
                controls: state.controls[userID] ?? UserControls())
        }
    }

    /// Everything the engine holds about one user, for that user (data portability).
    public struct UserExport: Sendable {
        public var user: UserID
        public var events: [Event]
        public var served: [ServedRecord]
        public var controls: UserControls
        /// What the engine learned: tag and creator affinities (relative, strongest first).
        public var tagAffinities: [(tag: String, weight: Float)]
        public var creatorAffinities: [(creator: CreatorID, weight: Float)]
        public var followedCreators: [CreatorID]
        public var notInterestedItems: [ItemID]
        public var notInterestedCreators: [CreatorID]
        public var pseudonym: String
        public var exportedAt: Timestamp
    }

    /// The user's complete data. Audited. Read under the write lock, so it never races an erasure.
    /// - Throws: ``ForYouError/Code/notFound`` when nothing is held about the user (so that looking up
    ///   a mistyped id stores nothing about it).
    public func export(user: String, actor: String = "system") async throws -> UserExport {
        let userID = try UserID(validating: user, field: "user")
        return try await exclusively { try await exportHoldingWrites(userID, actor: actor) }
    }

    private func exportHoldingWrites(_ userID: UserID, actor: String) async throws -> UserExport {
        let events = try await store.events(of: userID)
        let served = try await store.served(of: userID)
        let known = state.withLock { $0.users[userID] != nil || $0.controls[userID] != nil }
        guard known || !events.isEmpty || !served.isEmpty else {
            throw ForYouError(.notFound, "no data is held about this user")
        }
        let profile = try profile(of: userID.rawValue)
        let pseudonym = Pseudonym.of(userID, key: try await store.pseudonymKey(of: userID))
        try await recordAudit("user.exported", actor: actor, user: userID, details: ["events": "\(events.count)"])
        return UserExport(
            user: userID, events: events, served: served, controls: profile.controls, tagAffinities: profile.tagAffinities,
            creatorAffinities: profile.creatorAffinities, followedCreators: profile.followedCreators,
            notInterestedItems: profile.notInterestedItems, notInterestedCreators: profile.notInterestedCreators, pseudonym: pseudonym,
            exportedAt: clock.now())
    }

    // MARK: - Stored models

    /// A stored model file, as an overseer sees it.
    public struct StoredModel: Sendable {
        /// The `model_version` it serves under (or would).
        public var version: String
        public var trainedAt: Timestamp?
        public var packageID: String?
        public var provenance: Provenance?
        public var license: License?
        /// `serving`, `ready` (would load), or `refused` (it would not load now; see ``refusal``).
        public var state: String
        /// Why it would not load now (its error code and message).
        public var refusal: String?
    }

    /// The stored models, newest first, each checked now as a restart would check it. Reads no user data.
    public func storedModels() async throws -> [StoredModel] {
        let serving = learned.withLock { $0 }?.version
        return try await store.savedModels().map { bytes in
            do {
                let model = try servingModel(from: bytes)
                return StoredModel(
                    version: model.version, trainedAt: model.learned.trainedAt, packageID: model.licensedPackageID,
                    provenance: model.manifest?.provenance, license: model.manifest?.license, state: model.version == serving ? "serving" : "ready")
            } catch {
                let package = try? AlgorithmPackage(encoded: bytes)
                return StoredModel(
                    version: package?.manifest.modelVersion ?? "unreadable", trainedAt: nil, packageID: package?.id,
                    provenance: package?.manifest.provenance, license: package?.manifest.license, state: "refused",
                    refusal: (error as? ForYouError).map { "\($0.code): \($0.message)" } ?? "\(error)")
            }
        }
    }

    // MARK: - Algorithm packages

    /// Verifies a licensed algorithm package and, when it may serve here, stores it and swaps it in.
    /// A refused package changes nothing: the last good model keeps serving. Both outcomes are audited.
    /// - Throws: the refusal's own code (see ``PackageVerifier/verify(_:use:now:)``).
    @discardableResult
    public func installPackage(_ bytes: [UInt8], actor: String = "system") async throws -> ModelInfo {
        let verified = Result { () throws(ForYouError) -> ServingModel in
            let package = try AlgorithmPackage(encoded: bytes)
            let model = try verifier.verify(package, use: "serve", now: clock.now())
            return ServingModel(model, manifest: package.manifest, licensedPackageID: package.id, licensedPackage: bytes, feed: configuration.feed)
        }
        let serving: ServingModel
        switch verified {
        case .success(let model):
            serving = model
        case .failure(let refusal):
            counters.withLock { $0.packagesRefused += 1 }
            try await recordAudit("model.refused", actor: actor, details: ["code": refusal.code.rawValue, "reason": refusal.message])
            throw refusal
        }
        serving.buildRetrieval()  // before the swap, outside the locks
        try await exclusively {
            try await store.saveModel(bytes, version: serving.version)
            inheritFreshEngagement(serving, from: learned.withLock { $0 })
            learned.withLock { $0 = serving }
        }
        try await recordAudit("model.installed", actor: actor, details: serving.auditDetails)
        return Self.info(serving)
    }

    /// Packages the serving model under a license, signed with the licensor's key: code version,
    /// hyperparameters, item-side weights and provenance, never user data.
    /// - Throws: ``ForYouError/Code/conflict`` when no model is serving; ``ForYouError/Code/invalidArgument``
    ///   for bad license terms.
    public func makePackage(license: License, signingKey: Curve25519.Signing.PrivateKey, actor: String = "cli") async throws -> AlgorithmPackage {
        try license.validate()
        guard let serving = learned.withLock({ $0 }) else {
            throw ForYouError(.conflict, "no model is serving; train one first (foryou train)")
        }
        var provenance = serving.manifest?.provenance
            ?? Provenance(
                origin: "local", jurisdiction: configuration.jurisdiction.rawValue, trainedAt: serving.learned.trainedAt.rfc3339,
                users: serving.learned.users, events: serving.learned.events, items: serving.learned.items.count, fromScratch: true)
        provenance.origin = "licensor"
        let package = try AlgorithmPackage(model: serving.learned, provenance: provenance, license: license).signed(with: signingKey)
        try await recordAudit(
            "package.created", actor: actor,
            details: ["package_id": package.id, "licensee": license.licensee, "jurisdictions": license.jurisdictions.joined(separator: ",")])
        return package
    }
}
