// SPDX-License-Identifier: Apache-2.0

import ForYou
import Synchronization

/// A store that behaves like ``MemoryStore`` until told to fail, for testing how failures reach clients.
public final class FaultyStore: ForYouStore {
    /// What the next write does.
    public enum Mode: Sendable {
        /// Work normally.
        case healthy
        /// Throw `ForYouError(.unavailable)`, as the SQLite store does for a full disk.
        case unavailable
        /// Throw an error the engine does not know, as a bug would.
        case unexpected
    }

    private struct UnexpectedFailure: Error {}
    private let inner = MemoryStore()
    private let mode = Mutex(Mode.healthy)

    public init() {}

    /// Sets how the next writes behave.
    public func set(_ newMode: Mode) { mode.withLock { $0 = newMode } }

    private func failIfAsked() throws {
        switch mode.withLock({ $0 }) {
        case .healthy: return
        case .unavailable: throw ForYouError(.unavailable, "the disk holding the data folder is full; nothing of this request was stored")
        case .unexpected: throw UnexpectedFailure()
        }
    }

    public func upsert(_ items: [Item]) async throws {
        try failIfAsked()
        try await inner.upsert(items)
    }
    public func allItems() async throws -> [Item] { try await inner.allItems() }
    public func append(_ events: [Event]) async throws -> [Bool] {
        try failIfAsked()
        return try await inner.append(events)
    }
    public func page(after position: Int64, limit: Int) async throws -> EventLogPage { try await inner.page(after: position, limit: limit) }
    public func events(of user: UserID) async throws -> [Event] { try await inner.events(of: user) }
    public func count() async throws -> Int { try await inner.count() }
    public func eraseEvents(of user: UserID) async throws -> Int {
        try failIfAsked()
        return try await inner.eraseEvents(of: user)
    }
    public func record(_ records: [ServedRecord]) async throws {
        try failIfAsked()
        try await inner.record(records)
    }
    public func served(since: Timestamp) async throws -> [ServedRecord] { try await inner.served(since: since) }
    public func eraseServed(of user: UserID) async throws -> Int { try await inner.eraseServed(of: user) }
    public func pruneServed(before: Timestamp) async throws -> Int {
        try failIfAsked()
        return try await inner.pruneServed(before: before)
    }
    public func saveModel(_ bytes: [UInt8], version: String) async throws {
        try failIfAsked()
        try await inner.saveModel(bytes, version: version)
    }
    public func savedModels() async throws -> [[UInt8]] { try await inner.savedModels() }
    public func served(of user: UserID) async throws -> [ServedRecord] { try await inner.served(of: user) }
    public func setting(_ key: String) async throws -> String? { try await inner.setting(key) }
    public func setSetting(_ key: String, to value: String) async throws {
        try failIfAsked()
        try await inner.setSetting(key, to: value)
    }
    public func allUserControls() async throws -> [UserID: UserControls] { try await inner.allUserControls() }
    public func saveUserControls(_ controls: UserControls, of user: UserID) async throws {
        try failIfAsked()
        try await inner.saveUserControls(controls, of: user)
    }
    public func pseudonymKey(of user: UserID) async throws -> [UInt8] { try await inner.pseudonymKey(of: user) }
    public func eraseGovernanceData(of user: UserID) async throws {
        try failIfAsked()
        try await inner.eraseGovernanceData(of: user)
    }
    public func apiKeys() async throws -> [APIKeyRecord] { try await inner.apiKeys() }
    public func saveAPIKey(_ key: APIKeyRecord) async throws {
        try failIfAsked()
        try await inner.saveAPIKey(key)
    }
    public func appendAuditLine(_ line: String) async throws {
        try failIfAsked()
        try await inner.appendAuditLine(line)
    }
    public func auditLines() async throws -> [String] { try await inner.auditLines() }
    public func deleteModels() async throws {
        try failIfAsked()
        try await inner.deleteModels()
    }
    public func compact() async throws {}
}
