// SPDX-License-Identifier: Apache-2.0

/// What the engine keeps for sovereignty and accountability: the deployment's settings, each user's
/// explicit controls and pseudonym key, API keys, and the append-only audit log.
public protocol GovernanceStore: Sendable {
    /// A deployment setting (for example `jurisdiction`), or `nil` when it was never set.
    func setting(_ key: String) async throws -> String?
    /// Stores a deployment setting durably.
    func setSetting(_ key: String, to value: String) async throws

    /// Every user's explicit controls, read when the engine opens.
    func allUserControls() async throws -> [UserID: UserControls]
    /// Stores one user's controls durably, replacing earlier ones.
    func saveUserControls(_ controls: UserControls, of user: UserID) async throws

    /// The user's secret pseudonym key, created (random, 32 bytes) on first use. Audit entries name users
    /// only by a pseudonym derived from it; erasing the key makes those entries unlinkable.
    func pseudonymKey(of user: UserID) async throws -> [UInt8]
    /// Deletes the user's controls and pseudonym key.
    func eraseGovernanceData(of user: UserID) async throws

    /// Every API key record, active and revoked, in creation order.
    func apiKeys() async throws -> [APIKeyRecord]
    /// Stores a key record durably, replacing one with the same id.
    func saveAPIKey(_ key: APIKeyRecord) async throws

    /// Appends one line to the audit log durably (it survives a crash once this returns).
    func appendAuditLine(_ line: String) async throws
    /// Every audit line, oldest first.
    func auditLines() async throws -> [String]
}
