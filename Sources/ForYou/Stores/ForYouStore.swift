// SPDX-License-Identifier: Apache-2.0

/// Everything the engine persists: the catalogue, the event log, served history, trained models, and
/// the governance records (settings, user controls, pseudonym keys, API keys, the audit log).
///
/// Implementations: ``MemoryStore`` (tests, ephemeral runs) and `SQLiteStore` (the embedded default,
/// in ForYouSQLite). The behaviour every implementation must have is written once, in ForYouTesting's
/// `StoreContract`, and run against each.
public protocol ForYouStore: ItemCatalog, EventLog, ServedHistory, ModelStore, GovernanceStore {
    /// Reclaims space and physically removes deleted data from every file the store owns, so that
    /// nothing of an erased user can be read back from disk.
    func compact() async throws
}
