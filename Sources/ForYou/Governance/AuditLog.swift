// SPDX-License-Identifier: Apache-2.0
//
// The audit log: append-only and hash-chained. Each line is
//
//   {"entry":<entry JSON, sorted keys>,"hash":"<SHA-256 hex of the entry JSON's exact bytes>"}
//
// and each entry carries the sequence number (from 1) and the hash of the entry before it (64 zeros for
// the first), so changing, removing or reordering any entry breaks the chain at that entry. Anyone can
// check a log with a few lines of any language; `foryou audit verify` does it with `AuditChain.verify`.
// Entries name users only by a pseudonym (see `Pseudonym`); nothing else personal is written.

import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One audit entry.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// Position in the log, from 1.
    public var sequence: Int
    /// When it was written (RFC 3339).
    public var at: String
    /// What happened, for example `model.installed`, `model.refused`, `user.erased`, `feed.sample`.
    public var kind: String
    /// Who did it: `system`, `cli`, or `key:<key id>`.
    public var actor: String
    /// The pseudonym of the user concerned, if any.
    public var subject: String?
    /// Facts about the action (no personal data).
    public var details: [String: String]
    /// The hash of the previous entry.
    public var previous: String

    enum CodingKeys: String, CodingKey {
        case sequence, at, kind, actor, subject, details, previous
    }

    public init(
        sequence: Int, at: String, kind: String, actor: String, subject: String? = nil, details: [String: String] = [:], previous: String
    ) {
        self.sequence = sequence
        self.at = at
        self.kind = kind
        self.actor = actor
        self.subject = subject
        self.details = details
        self.previous = previous
    }
}

/// The result of checking an audit log.
public struct AuditVerification: Sendable, Equatable {
    /// How many entries were checked and found intact, from the start.
    public var intactEntries: Int
    /// The hash of the last intact entry (the head an overseer can write down and compare later).
    public var headHash: String
    /// The first problem found, naming the line; `nil` when the whole log is intact.
    public var problem: String?
    public var isIntact: Bool { problem == nil }
}

/// Builds and checks the hash chain.
public enum AuditChain {
    /// The `previous` hash of the first entry.
    public static let genesis = String(repeating: "0", count: 64)
    private static let prefix = #"{"entry":"#
    private static let hashPrefix = #","hash":""#

    /// The line for an entry, and the entry's hash.
    public static func line(for entry: AuditEntry) -> (line: String, hash: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: (try? encoder.encode(entry)) ?? Data(), as: UTF8.self)
        let hash = SHA256.hexDigest(Array(json.utf8))
        return (prefix + json + hashPrefix + hash + #""}"#, hash)
    }

    /// Parses one line into its entry and the hash it claims, checking the claim.
    public static func parse(_ line: String) -> (entry: AuditEntry, hash: String)? {
        let bytes = Array(line.utf8)
        let suffixLength = hashPrefix.utf8.count + 64 + 2
        guard bytes.count > prefix.utf8.count + suffixLength, bytes.starts(with: prefix.utf8) else { return nil }
        let jsonEnd = bytes.count - suffixLength
        guard Array(bytes[jsonEnd..<(jsonEnd + hashPrefix.utf8.count)]) == Array(hashPrefix.utf8), bytes.suffix(2) == [0x22, 0x7D] else { return nil }
        let json = Array(bytes[prefix.utf8.count..<jsonEnd])
        let claimed = String(decoding: bytes[(jsonEnd + hashPrefix.utf8.count)..<(bytes.count - 2)], as: UTF8.self)
        guard SHA256.hexDigest(json) == claimed, let entry = try? JSONDecoder().decode(AuditEntry.self, from: Data(json)) else { return nil }
        return (entry, claimed)
    }

    /// Checks every line: its hash, its sequence number and its link to the line before.
    /// - Complexity: O(total bytes).
    public static func verify(lines: [String]) -> AuditVerification {
        var head = genesis
        for (offset, line) in lines.enumerated() {
            let number = offset + 1
            func broken(_ why: String) -> AuditVerification {
                AuditVerification(intactEntries: offset, headHash: head, problem: "line \(number): \(why)")
            }
            guard let (entry, hash) = parse(line) else {
                return broken("the entry does not match its hash (changed) or is not an audit line")
            }
            guard entry.sequence == number else {
                return broken("sequence number \(entry.sequence) where \(number) was expected (an entry was removed or reordered)")
            }
            guard entry.previous == head else {
                return broken("the entry does not link to the one before it (an entry was removed, reordered or changed)")
            }
            head = hash
        }
        return AuditVerification(intactEntries: lines.count, headHash: head, problem: nil)
    }
}

/// Pseudonyms for audit entries: HMAC-SHA256 of the user id under a secret key kept per user. Erasing a
/// user deletes their key, after which no one can tell which user an old pseudonym stood for.
public enum Pseudonym {
    static func of(_ user: UserID, key: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(user.rawValue.utf8), using: SymmetricKey(data: key))
        return "p-" + String(Array(code).hexString.prefix(24))
    }

    /// 32 random bytes from the system's secure generator.
    public static func newKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
