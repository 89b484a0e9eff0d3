// SPDX-License-Identifier: Apache-2.0
//
// API keys with roles. A key is shown once, when created: `fy_<id>_<secret>`. The store keeps only the id,
// the role and the SHA-256 of the whole key; authentication looks the id up and compares hashes in
// constant time. Keys are never logged; the audit log names them by id.

import Crypto

/// What a key may do.
public enum APIRole: String, Sendable, CaseIterable, Codable {
    /// Upsert items and send events.
    case ingest
    /// Read feeds and set users' controls (topics, keyword filters, reset).
    case serve
    /// Everything, including erasure, export, training, packages and keys.
    case admin
    /// Read the audit log, model provenance and the transparency report; no personal data.
    case overseer
}

/// A stored key: never the secret itself.
public struct APIKeyRecord: Sendable, Equatable {
    /// Public, 12 hex digits; shown in lists and the audit log.
    public var id: String
    public var name: String
    public var role: APIRole
    /// SHA-256 of the full key text.
    public var secretHash: [UInt8]
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?
    /// This key's own limits; where `nil`, the server's defaults apply.
    public var limits: APIKeyLimits

    public init(
        id: String, name: String, role: APIRole, secretHash: [UInt8], createdAt: Timestamp, revokedAt: Timestamp? = nil,
        limits: APIKeyLimits = APIKeyLimits()
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.limits = limits
    }
}

/// Limits one key may have instead of the server's defaults (`serve --rate-limit`, `--max-body-bytes`):
/// for example a higher rate for an ingest pipeline, a lower one for a public client.
public struct APIKeyLimits: Sendable, Equatable {
    /// Sustained requests per second (bursts up to twice as many); 0 means unlimited.
    public var requestsPerSecond: Double?
    /// The largest request body, in bytes.
    public var maximumBodyBytes: Int?

    public init(requestsPerSecond: Double? = nil, maximumBodyBytes: Int? = nil) {
        self.requestsPerSecond = requestsPerSecond
        self.maximumBodyBytes = maximumBodyBytes
    }

    /// The allowed ranges.
    public static let requestsPerSecondRange: ClosedRange<Double> = 0...1_000_000
    public static let maximumBodyBytesRange: ClosedRange<Int> = 1024...(64 << 20)

    /// Checks the ranges, naming the field.
    public func validate() throws(ForYouError) {
        if let rate = requestsPerSecond, !(rate.isFinite && Self.requestsPerSecondRange.contains(rate)) {
            throw ForYouError(.invalidArgument, "`rate_limit` must be 0...1000000 requests per second (0: unlimited), got \(rate)")
        }
        if let bytes = maximumBodyBytes, !Self.maximumBodyBytesRange.contains(bytes) {
            throw ForYouError(.invalidArgument, "`max_body_bytes` must be 1024...67108864, got \(bytes)")
        }
    }
}

/// The active keys, for authenticating requests.
public struct APIKeyring: Sendable {
    private var active: [String: APIKeyRecord] = [:]
    /// How many keys are active.
    public var count: Int { active.count }
    /// Whether requests need a key: as soon as any key was ever created. Revoking every key locks the
    /// API (make a new one with `foryou keys create`) rather than opening it again.
    public let isRequired: Bool

    public init(_ records: [APIKeyRecord]) {
        for record in records where record.revokedAt == nil { active[record.id] = record }
        isRequired = !records.isEmpty
    }

    /// The active key a presented key text belongs to, or `nil`.
    public func authenticate(_ presented: String) -> APIKeyRecord? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "fy", let record = active[String(parts[1])] else { return nil }
        return Self.constantTimeEqual(Self.hash(presented), record.secretHash) ? record : nil
    }

    /// Creates a key: the text to hand over once, and the record to store.
    public static func generate(
        name: String, role: APIRole, limits: APIKeyLimits = APIKeyLimits(), now: Timestamp
    ) -> (key: String, record: APIKeyRecord) {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<6).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
        let secret = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
        let key = "fy_\(id)_\(secret)"
        return (key, APIKeyRecord(id: id, name: name, role: role, secretHash: hash(key), createdAt: now, limits: limits))
    }

    static func hash(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Array(key.utf8))) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
