// SPDX-License-Identifier: Apache-2.0
//
// Settings, user controls, pseudonym keys, API keys, and the audit log as a table whose primary key is
// the entry's sequence number: two servers can never both write entry n, and each line is checked to
// continue the stored chain before it is appended.

import ForYou
import Foundation
import PostgresNIO
import Synchronization

extension PostgresStore {
    public func setting(_ key: String) async throws -> String? {
        try await guarded {
            try await collect(try await client.query("SELECT value FROM settings WHERE key = \(key)", logger: logger).decode(String.self)).first
        }
    }

    public func setSetting(_ key: String, to value: String) async throws {
        try await guarded {
            try await client.query(
                "INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = excluded.value", logger: logger)
        }
    }

    public func allUserControls() async throws -> [UserID: UserControls] {
        try await guarded {
            var all: [UserID: UserControls] = [:]
            for row in try await collect(try await client.query("SELECT user_id, controls FROM user_controls", logger: logger).decode((String, String).self)) {
                all[UserID(trusted: row.0)] = try JSONDecoder().decode(UserControls.self, from: Data(row.1.utf8))
            }
            return all
        }
    }

    public func saveUserControls(_ controls: UserControls, of user: UserID) async throws {
        let json = String(decoding: try JSONEncoder().encode(controls), as: UTF8.self)
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO user_controls (user_id, controls) VALUES (\(user.rawValue), \(json))
                ON CONFLICT (user_id) DO UPDATE SET controls = excluded.controls
                """, logger: logger)
            try await notify(.controls, on: connection)
        }
    }

    public func pseudonymKey(of user: UserID) async throws -> [UInt8] {
        try await guarded {
            // Two servers creating a user's key at once: the first insert wins, both read it.
            try await client.query(
                "INSERT INTO pseudonym_keys (user_id, key) VALUES (\(user.rawValue), \(Data(Pseudonym.newKey()))) ON CONFLICT (user_id) DO NOTHING",
                logger: logger)
            let keys = try await collect(
                try await client.query("SELECT key FROM pseudonym_keys WHERE user_id = \(user.rawValue)", logger: logger).decode(Data.self))
            guard let key = keys.first else { throw ForYouError(.unavailable, "the pseudonym key was erased while it was read; retry") }
            return Array(key)
        }
    }

    public func eraseGovernanceData(of user: UserID) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM user_controls WHERE user_id = \(user.rawValue)", logger: logger)
            try await connection.query("DELETE FROM pseudonym_keys WHERE user_id = \(user.rawValue)", logger: logger)
            try await notify(.controls, on: connection)
            tablesToCompact.withLock { $0.formUnion(["user_controls", "pseudonym_keys"]) }
        }
    }

    public func apiKeys() async throws -> [APIKeyRecord] {
        try await guarded {
            try await collect(
                try await client.query(
                    "SELECT id, name, role, secret_hash, created_at, revoked_at, rate_limit, max_body_bytes FROM api_keys ORDER BY saved", logger: logger
                ).decode((String, String, String, Data, Int64, Int64?, Double?, Int64?).self)
            ).map { row in
                APIKeyRecord(
                    id: row.0, name: row.1, role: APIRole(rawValue: row.2) ?? .serve, secretHash: Array(row.3),
                    createdAt: Timestamp(milliseconds: row.4), revokedAt: row.5.map(Timestamp.init(milliseconds:)),
                    limits: APIKeyLimits(requestsPerSecond: row.6, maximumBodyBytes: row.7.map(Int.init)))
            }
        }
    }

    public func saveAPIKey(_ key: APIKeyRecord) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO api_keys (id, name, role, secret_hash, created_at, revoked_at, rate_limit, max_body_bytes)
                VALUES (\(key.id), \(key.name), \(key.role.rawValue), \(Data(key.secretHash)), \(key.createdAt.milliseconds),
                    \(key.revokedAt?.milliseconds), \(key.limits.requestsPerSecond), \(key.limits.maximumBodyBytes.map(Int64.init)))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, secret_hash = excluded.secret_hash,
                    created_at = excluded.created_at, revoked_at = excluded.revoked_at, rate_limit = excluded.rate_limit,
                    max_body_bytes = excluded.max_body_bytes
                """, logger: logger)
            try await notify(.keys, on: connection)
        }
    }

    public func appendAuditLine(_ line: String) async throws {
        guard let (entry, _) = AuditChain.parse(line) else {
            throw ForYouError(.internal, "refused to append an audit line that is not a well-formed audit entry")
        }
        try await transaction(locking: .audit) { connection in
            let last = try await collect(
                try await connection.query("SELECT line FROM audit ORDER BY sequence DESC LIMIT 1", logger: logger).decode(String.self)
            ).first
            let head: (sequence: Int, hash: String) = last.flatMap(AuditChain.parse).map { ($0.entry.sequence + 1, $0.hash) } ?? (1, AuditChain.genesis)
            guard entry.sequence == head.sequence, entry.previous == head.hash else {
                throw ForYouError(.conflict, "another server appended to the audit log first; the entry is rebuilt on the new head")
            }
            try await connection.query("INSERT INTO audit (sequence, line) VALUES (\(Int64(entry.sequence)), \(line))", logger: logger)
        }
    }

    public func auditLines() async throws -> [String] {
        try await guarded {
            try await collect(try await client.query("SELECT line FROM audit ORDER BY sequence", logger: logger).decode(String.self))
        }
    }

    public func latestAuditLine() async throws -> String? {
        try await guarded {
            try await collect(try await client.query("SELECT line FROM audit ORDER BY sequence DESC LIMIT 1", logger: logger).decode(String.self)).first
        }
    }
}
