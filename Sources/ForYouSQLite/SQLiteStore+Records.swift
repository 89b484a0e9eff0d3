// SPDX-License-Identifier: Apache-2.0

import ForYou
import Foundation
import GRDB
import GRDBSQLite

// MARK: - ItemCatalog

extension SQLiteStore {
    public func upsert(_ items: [Item]) async throws {
        try await write(main) { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO items (id, creator, tags, duration_ms, language, published_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET creator = excluded.creator, tags = excluded.tags,
                    duration_ms = excluded.duration_ms, language = excluded.language, published_at = excluded.published_at
                    """)
            for item in items {
                try statement.execute(arguments: [
                    item.id.rawValue, item.creator.rawValue, item.tags.joined(separator: "\u{1F}"), item.durationMilliseconds,
                    item.language, item.publishedAt.milliseconds,
                ])
            }
        }
    }

    public func allItems() async throws -> [Item] {
        try await read(main) { db in
            try Row.fetchAll(db, sql: "SELECT id, creator, tags, duration_ms, language, published_at FROM items ORDER BY rowid").map { row in
                let tags: String = row[2]
                return Item(
                    id: ItemID(trusted: row[0]), creator: CreatorID(trusted: row[1]),
                    tags: tags.isEmpty ? [] : tags.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init),
                    durationMilliseconds: row[3], language: row[4], publishedAt: Timestamp(milliseconds: row[5]))
            }
        }
    }
}

// MARK: - EventLog

extension SQLiteStore {
    public func append(_ events: [Event]) async throws -> [Bool] {
        let eventIDs = self.eventIDs
        return try await write(main) { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO events (id, user, item, creator, type, at, watch_ms, item_duration_ms, region) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            let storedID = try db.cachedStatement(sql: "SELECT id FROM events WHERE position = ?")
            return try events.map { event in
                let id = event.id.rawValue
                let fingerprint = eventIDs.fingerprint(id)
                // Each match is confirmed by the row itself (earlier in this batch included: it is visible here).
                for position in eventIDs.positions(of: fingerprint) {
                    guard let stored = try String.fetchOne(storedID, arguments: [position]) else {
                        eventIDs.remove(fingerprint, at: position)  // left by a transaction that rolled back
                        continue
                    }
                    if stored.utf8.elementsEqual(id.utf8) { return false }
                }
                try Self.insert(event, with: insert, in: db)
                // Should the transaction roll back, this entry names a missing row and is dropped when met.
                eventIDs.insert(fingerprint, at: db.lastInsertedRowID)
                return true
            }
        }
    }

    /// Binds and runs the insert through SQLite's C API: building GRDB's arguments (an array of
    /// existentials per row) cost about as much as the insert itself at tens of thousands of events a second.
    private static func insert(_ event: Event, with statement: Statement, in db: Database) throws {
        let raw = statement.sqliteStatement
        sqlite3_reset(raw)
        var code = SQLITE_OK
        func bind(_ index: Int32, _ text: String?) {
            guard code == SQLITE_OK else { return }
            guard var text else {
                code = sqlite3_bind_null(raw, index)
                return
            }
            code = text.withUTF8 { bytes in
                guard let start = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(raw, index, "", 0, transient) }
                return sqlite3_bind_text(raw, index, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient)
            }
        }
        func bind(_ index: Int32, _ number: Int64?) {
            guard code == SQLITE_OK else { return }
            code = number.map { sqlite3_bind_int64(raw, index, $0) } ?? sqlite3_bind_null(raw, index)
        }
        bind(1, event.id.rawValue)
        bind(2, event.user.rawValue)
        bind(3, event.item?.rawValue)
        bind(4, event.creator?.rawValue)
        bind(5, event.type.rawValue)
        bind(6, event.at.milliseconds)
        bind(7, event.watchMilliseconds)
        bind(8, event.itemDurationMilliseconds)
        bind(9, event.region?.rawValue)
        if code == SQLITE_OK { code = sqlite3_step(raw) }
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            sqlite3_reset(raw)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }

    /// SQLite copies the bytes it is given (SQLITE_TRANSIENT, a macro Swift does not import).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    public func page(after position: Int64, limit: Int) async throws -> EventLogPage {
        try await read(main) { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT position, id, user, item, creator, type, at, watch_ms, item_duration_ms, region FROM events WHERE position > ? ORDER BY position LIMIT ?",
                arguments: [position, limit])
            return EventLogPage(events: rows.map(Self.event(from:)), lastPosition: rows.last?[0] ?? position)
        }
    }

    public func events(of user: UserID) async throws -> [Event] {
        try await read(main) { db in
            try Row.fetchAll(
                db, sql: "SELECT position, id, user, item, creator, type, at, watch_ms, item_duration_ms, region FROM events WHERE user = ? ORDER BY position",
                arguments: [user.rawValue]
            ).map(Self.event(from:))
        }
    }

    public func count() async throws -> Int {
        try await read(main) { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }

    public func eraseEvents(of user: UserID) async throws -> Int {
        let erased = try await write(main) { db in
            try Row.fetchAll(db, sql: "DELETE FROM events WHERE user = ? RETURNING position, id", arguments: [user.rawValue])
                .map { (position: $0[0] as Int64, id: $0[1] as String) }
        }
        // After the commit: had it failed, the ids would still be stored and must stay known.
        for event in erased { eventIDs.remove(eventIDs.fingerprint(event.id), at: event.position) }
        return erased.count
    }

    private static func event(from row: Row) -> Event {
        let item: String? = row[3]
        let creator: String? = row[4]
        let type: String = row[5]
        let region: String? = row[9]
        return Event(
            id: EventID(trusted: row[1]), user: UserID(trusted: row[2]), item: item.map(ItemID.init(trusted:)),
            creator: creator.map(CreatorID.init(trusted:)), type: EventType(rawValue: type) ?? .impression,
            at: Timestamp(milliseconds: row[6]), watchMilliseconds: row[7], itemDurationMilliseconds: row[8],
            region: region.map(RegionID.init(trusted:)))
    }
}

// MARK: - ModelStore

extension SQLiteStore {
    /// How many model files are kept; older ones are deleted when a new one is saved.
    static let modelsKept = 3

    public func saveModel(_ bytes: [UInt8], version: String) async throws {
        try await write(main) { db in
            let next = (try Int64.fetchOne(db, sql: "SELECT MAX(saved_at) FROM models") ?? 0) + 1
            try db.execute(
                sql: "INSERT OR REPLACE INTO models (version, saved_at, bytes) VALUES (?, ?, ?)",
                arguments: [version, next, Data(bytes)])
            try db.execute(
                sql: "DELETE FROM models WHERE saved_at <= (SELECT MAX(saved_at) FROM models) - ?", arguments: [Self.modelsKept])
        }
    }

    public func deleteModels() async throws {
        try await write(main) { db in try db.execute(sql: "DELETE FROM models") }
    }

    public func savedModels() async throws -> [[UInt8]] {
        try await read(main) { db in
            try Data.fetchAll(db, sql: "SELECT bytes FROM models ORDER BY saved_at DESC").map { Array($0) }
        }
    }
}

// MARK: - ServedHistory

extension SQLiteStore {
    public func record(_ records: [ServedRecord]) async throws {
        guard !records.isEmpty else { return }
        try await write(servedDatabase) { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO served (user, item, at) VALUES (?, ?, ?)")
            for record in records {
                try statement.execute(arguments: [record.user.rawValue, record.item.rawValue, record.at.milliseconds])
            }
        }
    }

    public func served(since: Timestamp) async throws -> [ServedRecord] {
        try await read(servedDatabase) { db in
            try Row.fetchAll(db, sql: "SELECT user, item, at FROM served WHERE at >= ? ORDER BY rowid", arguments: [since.milliseconds])
                .map { ServedRecord(user: UserID(trusted: $0[0]), item: ItemID(trusted: $0[1]), at: Timestamp(milliseconds: $0[2])) }
        }
    }

    public func pruneServed(before: Timestamp) async throws -> Int {
        try await write(servedDatabase) { db in
            try db.execute(sql: "DELETE FROM served WHERE at < ?", arguments: [before.milliseconds])
            return db.changesCount
        }
    }

    public func served(of user: UserID) async throws -> [ServedRecord] {
        try await read(servedDatabase) { db in
            try Row.fetchAll(db, sql: "SELECT user, item, at FROM served WHERE user = ? ORDER BY rowid", arguments: [user.rawValue])
                .map { ServedRecord(user: UserID(trusted: $0[0]), item: ItemID(trusted: $0[1]), at: Timestamp(milliseconds: $0[2])) }
        }
    }

    public func eraseServed(of user: UserID) async throws -> Int {
        try await write(servedDatabase) { db in
            try db.execute(sql: "DELETE FROM served WHERE user = ?", arguments: [user.rawValue])
            return db.changesCount
        }
    }
}
