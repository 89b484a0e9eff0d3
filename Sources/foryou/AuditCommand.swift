// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import ForYouPostgres
import ForYouSQLite

/// `foryou audit`: check and read the hash-chained audit log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify or print the audit log.", subcommands: [Verify.self, Show.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every entry's hash, sequence number and link; exits with status 1 at the first changed, removed or reordered entry.",
            discussion: "Reads the file directly, so it works on a copy and while the server runs.")
        @Option(help: "The data folder (its audit.jsonl is checked).")
        var data: String?
        @Option(help: "An audit log file to check instead.")
        var file: String?
        @Option(help: "A PostgreSQL database (postgres://…) whose audit table is checked instead.")
        var store: String?
        @Option(help: "A head hash written down earlier: fails unless the log still contains that entry.")
        var expectHead: String?

        func run() async throws {
            try await reportingErrors {
                guard let path = file ?? data.map({ $0 + "/audit.jsonl" }) ?? store.map(PostgresStore.redacted(url:)) else {
                    throw ForYouError(.invalidArgument, "give --data, --file or --store")
                }
                let lines = try await readLines(file: file ?? data.map { $0 + "/audit.jsonl" }, store: store)
                let verification = AuditChain.verify(lines: lines)
                if let problem = verification.problem {
                    throw ForYouError(.conflict, "audit log \(path) is NOT intact: \(problem) (\(verification.intactEntries) entries before it are intact)")
                }
                if let expectHead, !lines.contains(where: { AuditChain.parse($0)?.hash == expectHead }) {
                    throw ForYouError(.conflict, "audit log \(path) no longer contains the entry with hash \(expectHead): entries were removed from its end")
                }
                print("audit log intact: \(verification.intactEntries) entries, head \(verification.headHash)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the latest entries.")
        @Option(help: "The data folder.")
        var data: String?
        @Option(help: "A PostgreSQL database (postgres://…) instead of a data folder.")
        var store: String?
        @Option(help: "How many of the latest entries.")
        var tail = 20

        func run() async throws {
            try await reportingErrors {
                guard data != nil || store != nil else { throw ForYouError(.invalidArgument, "give --data or --store") }
                for line in try await readLines(file: data.map { $0 + "/audit.jsonl" }, store: store).suffix(max(0, tail)) { print(line) }
            }
        }
    }
}

/// The audit lines of a file, or of a PostgreSQL store's audit table.
private func readLines(file: String?, store: String?) async throws -> [String] {
    if let file { return try SQLiteStore.readAuditLines(path: file) }
    let opened = try await PostgresStore.connect(url: store ?? "")
    defer { opened.close() }
    return try await opened.auditLines()
}
