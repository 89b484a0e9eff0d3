// SPDX-License-Identifier: Apache-2.0
//
// The embedded default store: two SQLite databases in one data folder, through GRDB.
//
//   foryou.sqlite  items and the event log. WAL journal, synchronous=FULL: a commit is fsynced before it
//                  returns, so an acknowledged event survives kill -9 and power loss. The log's only
//                  key is its append order; event ids are checked against an index in memory
//                  (EventIDIndex), rebuilt when the store opens.
//   served.sqlite  served history. WAL, synchronous=NORMAL: losing the last moments of it in a power loss
//                  can only repeat an item once, and it is written on every feed request.
//   foryou.lock    an flock held while a process has the folder open.
//
// Both databases run with secure_delete=ON, so deleted rows are overwritten with zeros, and compact()
// runs VACUUM and truncates the WAL, so nothing of an erased user stays on disk.

import Foundation
import ForYou
import GRDB

/// The embedded, durable store of the engine: a data folder with SQLite databases.
///
/// ```swift
/// let store = try SQLiteStore(directory: "data")
/// let engine = try await Recommender.open(store: store)
/// ```
public final class SQLiteStore: ForYouStore {
    /// The folder holding the databases.
    public let directory: String
    let main: DatabaseQueue
    let servedDatabase: DatabaseQueue
    /// The ids of the stored events, for idempotency.
    let eventIDs: EventIDIndex
    private let lock: DirectoryLock

    /// Opens (creating if needed) the store in `directory`, taking its lock.
    /// - Throws: ``ForYouError/Code/conflict`` when another process has the folder open;
    ///   ``ForYouError/Code/unavailable`` when the folder or databases cannot be opened.
    public convenience init(directory: String) throws {
        try self.init(directory: directory, eventIDs: EventIDIndex())
    }

    /// Opens the store with its own id index (tests give one with a weak fingerprint).
    init(directory: String, eventIDs: EventIDIndex) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ForYouError(.unavailable, "cannot create the data folder \(directory)", cause: error)
        }
        self.directory = directory
        self.eventIDs = eventIDs
        lock = try DirectoryLock(directory: directory)
        do {
            main = try DatabaseQueue(path: directory + "/foryou.sqlite", configuration: Self.configuration(synchronous: "FULL"))
            servedDatabase = try DatabaseQueue(path: directory + "/served.sqlite", configuration: Self.configuration(synchronous: "NORMAL"))
            try Self.mainMigrator.migrate(main)
            try Self.servedMigrator.migrate(servedDatabase)
            try Self.dropTornAuditTail(path: directory + "/audit.jsonl")
            try main.read { db in try Self.load(eventIDs, from: db) }
        } catch {
            throw ForYouError(.unavailable, "cannot open the databases in \(directory): \(error)", cause: error)
        }
    }

    /// Fills the id index from the log. - Complexity: O(E) for E stored events.
    private static func load(_ index: EventIDIndex, from db: Database) throws {
        index.reserve(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0)
        let rows = try Row.fetchCursor(db, sql: "SELECT position, id FROM events")
        while let row = try rows.next() {
            let id: String = row[1]
            index.insert(index.fingerprint(id), at: row[0])
        }
    }

    private static func configuration(synchronous: String) -> Configuration {
        var configuration = Configuration()
        // WAL is set here rather than with `journalMode = .wal`, which would then lower synchronous to NORMAL.
        configuration.prepareDatabase { db in
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                throw ForYouError(.unavailable, "SQLite could not switch \(db.description) to WAL mode")
            }
            // A 64 MiB page cache (SQLite's default is 2 MiB), for the items' id index and reads of the log.
            try db.execute(sql: "PRAGMA synchronous = \(synchronous); PRAGMA secure_delete = ON; PRAGMA cache_size = -65536")
        }
        return configuration
    }

    /// The journal mode and `synchronous` level of the event log's connection (2 is FULL).
    public func durabilitySettings() async throws -> (journalMode: String, synchronous: Int) {
        try await main.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    public func compact() async throws {
        for database in [main, servedDatabase] {
            try await guarded {
                try await database.writeWithoutTransaction { db in
                    try db.execute(sql: "VACUUM")
                    try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                }
            }
        }
    }

    // MARK: - Storage errors

    /// A transaction on `database`, with storage failures turned into ``ForYouError``.
    func write<T: Sendable>(_ database: DatabaseQueue, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await guarded { try await database.write(body) }
    }

    /// A read on `database`, with storage failures turned into ``ForYouError``.
    func read<T: Sendable>(_ database: DatabaseQueue, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await guarded { try await database.read(body) }
    }

    /// Runs `body`, mapping SQLite failures to `unavailable`: the request can be retried, and nothing
    /// of the failed transaction was written.
    private func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError {
            let message: String
            switch error.resultCode {
            case .SQLITE_FULL: message = "the disk holding the data folder is full; nothing of this request was stored"
            case .SQLITE_IOERR:
                message = "the data folder could not be written (I/O error); the request was not acknowledged: resend it with the same ids (what was stored is counted once)"
            case .SQLITE_BUSY, .SQLITE_LOCKED: message = "the store is busy; retry the request"
            default: message = "the store failed; the request was not acknowledged: resend it with the same ids (what was stored is counted once)"
            }
            throw ForYouError(.unavailable, message, cause: error)
        }
    }
}
