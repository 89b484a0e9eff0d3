// SPDX-License-Identifier: Apache-2.0
//
// Governance records in foryou.sqlite (settings, user controls, pseudonym keys, API keys) and the audit
// log as its own file, audit.jsonl: one line per entry, appended and fsynced before the call returns, so
// an overseer can read and check it with ordinary tools.

import ForYou
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SQLiteStore {
    public func setting(_ key: String) async throws -> String? {
        try await read(main) { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) }
    }

    public func setSetting(_ key: String, to value: String) async throws {
        try await write(main) { db in
            try db.execute(sql: "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    public func allUserControls() async throws -> [UserID: UserControls] {
        try await read(main) { db in
            var all: [UserID: UserControls] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT user, controls FROM user_controls") {
                let json: String = row[1]
                all[UserID(trusted: row[0])] = try JSONDecoder().decode(UserControls.self, from: Data(json.utf8))
            }
            return all
        }
    }

    public func saveUserControls(_ controls: UserControls, of user: UserID) async throws {
        let json = String(decoding: try JSONEncoder().encode(controls), as: UTF8.self)
        try await write(main) { db in
            try db.execute(sql: "INSERT OR REPLACE INTO user_controls (user, controls) VALUES (?, ?)", arguments: [user.rawValue, json])
        }
    }

    public func pseudonymKey(of user: UserID) async throws -> [UInt8] {
        try await write(main) { db in
            if let key = try Data.fetchOne(db, sql: "SELECT key FROM pseudonym_keys WHERE user = ?", arguments: [user.rawValue]) {
                return Array(key)
            }
            let key = Pseudonym.newKey()
            try db.execute(sql: "INSERT INTO pseudonym_keys (user, key) VALUES (?, ?)", arguments: [user.rawValue, Data(key)])
            return key
        }
    }

    public func eraseGovernanceData(of user: UserID) async throws {
        try await write(main) { db in
            try db.execute(sql: "DELETE FROM user_controls WHERE user = ?", arguments: [user.rawValue])
            try db.execute(sql: "DELETE FROM pseudonym_keys WHERE user = ?", arguments: [user.rawValue])
        }
    }

    public func apiKeys() async throws -> [APIKeyRecord] {
        try await read(main) { db in
            try Row.fetchAll(
                db, sql: "SELECT id, name, role, secret_hash, created_at, revoked_at, rate_limit, max_body_bytes FROM api_keys ORDER BY created_at, id"
            ).map { row in
                let revoked: Int64? = row[5]
                let hash: Data = row[3]
                return APIKeyRecord(
                    id: row[0], name: row[1], role: APIRole(rawValue: row[2]) ?? .serve, secretHash: Array(hash),
                    createdAt: Timestamp(milliseconds: row[4]), revokedAt: revoked.map(Timestamp.init(milliseconds:)),
                    limits: APIKeyLimits(requestsPerSecond: row[6], maximumBodyBytes: row[7]))
            }
        }
    }

    public func saveAPIKey(_ key: APIKeyRecord) async throws {
        try await write(main) { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO api_keys (id, name, role, secret_hash, created_at, revoked_at, rate_limit, max_body_bytes)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key.id, key.name, key.role.rawValue, Data(key.secretHash), key.createdAt.milliseconds, key.revokedAt?.milliseconds,
                    key.limits.requestsPerSecond, key.limits.maximumBodyBytes,
                ])
        }
    }

    /// The audit log's path.
    public var auditLogPath: String { directory + "/audit.jsonl" }

    public func appendAuditLine(_ line: String) async throws {
        try appendDurably(Array((line + "\n").utf8), to: auditLogPath)
    }

    public func auditLines() async throws -> [String] {
        try Self.readAuditLines(path: auditLogPath)
    }

    /// A crash in the middle of an append can leave a last line without its newline. That entry was
    /// never acknowledged (the append fails before its fsync returns), so it is cut off when the store
    /// opens; the chain then continues from the last complete entry.
    static func dropTornAuditTail(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != 0x0A else { return }
        let keep = (data.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(keep))
        try handle.synchronize()
    }

    /// The lines of an audit log file (none when it does not exist yet); a torn last line from a crash
    /// mid-append is returned as is, so verification reports it.
    public static func readAuditLines(path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ForYouError(.unavailable, "cannot read the audit log \(path)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}

/// Appends bytes to a file and fsyncs it before returning. On any failure the file is cut back to its
/// length before the call, so a failed append leaves no fragment for the next line to be glued onto.
private func appendDurably(_ bytes: [UInt8], to path: String) throws {
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw ForYouError(.unavailable, "cannot open the audit log \(path) (errno \(errno))") }
    defer { close(descriptor) }
    let before = lseek(descriptor, 0, SEEK_END)
    func fail(_ what: String) -> ForYouError {
        let code = errno
        if before >= 0 { _ = ftruncate(descriptor, before) }
        return ForYouError(.unavailable, "cannot \(what) the audit log \(path) (errno \(code)); nothing was recorded")
    }
    var written = 0
    while written < bytes.count {
        let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard result > 0 else { throw fail("write") }
        written += result
    }
    guard fsync(descriptor) == 0 else { throw fail("sync") }
}
