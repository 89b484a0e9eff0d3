// SPDX-License-Identifier: Apache-2.0
//
// The event log checks ids in memory (EventIDIndex), confirming every match against the stored row.

import Foundation
import ForYou
import ForYouTesting
import GRDB
import Testing

@testable import ForYouSQLite

struct SQLiteEventIDTests {
    /// Every id gets the same fingerprint: each lookup is a collision, and only the rows decide.
    @Test func collidingFingerprintsNeverMakeANewEventADuplicate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(directory: directory.path, eventIDs: EventIDIndex { _ in 7 })
        #expect(try await store.append([StoreContract.event("a"), StoreContract.event("b"), StoreContract.event("a")]) == [true, true, false])
        #expect(try await store.append([StoreContract.event("c"), StoreContract.event("b")]) == [true, false])
        _ = try await store.append([StoreContract.event("d", user: "u2")])
        #expect(try await store.eraseEvents(of: UserID(trusted: "u2")) == 1)
        #expect(store.eventIDs.count == 3)
        #expect(try await store.append([StoreContract.event("d", user: "u3"), StoreContract.event("c")]) == [true, false])
        #expect(try await store.count() == 4)
    }

    /// Ids compare byte for byte, as SQLite's UNIQUE did: "é" precomposed and decomposed are two ids.
    @Test func idsCompareByteForByte() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(directory: directory.path, eventIDs: EventIDIndex { _ in 1 })
        #expect(try await store.append([StoreContract.event("caf\u{E9}"), StoreContract.event("cafe\u{301}")]) == [true, true])
    }

    @Test func anEntryLeftByARolledBackTransactionIsDropped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(directory: directory.path)
        let fingerprint = store.eventIDs.fingerprint("ghost")
        store.eventIDs.insert(fingerprint, at: 42)  // as if a transaction had stored "ghost" at 42 and rolled back
        #expect(try await store.append([StoreContract.event("ghost")]) == [true])
        #expect(store.eventIDs.positions(of: fingerprint) == [1])
        #expect(try await store.append([StoreContract.event("ghost")]) == [false])
    }

    @Test func reopeningRebuildsTheIndexFromTheLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let store = try SQLiteStore(directory: directory.path)
            _ = try await store.append((0..<100).map { StoreContract.event("e\($0)", user: "u\($0 % 3)") })
            _ = try await store.eraseEvents(of: UserID(trusted: "u0"))
        }
        let reopened = try SQLiteStore(directory: directory.path)
        #expect(reopened.eventIDs.count == 66)
        let again = try await reopened.append((0..<100).map { StoreContract.event("e\($0)", user: "u\($0 % 3)") })
        #expect(again == (0..<100).map { $0 % 3 == 0 })
    }

    /// A data folder written before v5 (UNIQUE ids, an index on users) keeps its events, positions and
    /// duplicates; positions of erased events at the end of the log are not reused.
    @Test func aFolderFromBeforeV5IsMigrated() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let queue = try DatabaseQueue(path: directory.path + "/foryou.sqlite")
            try SQLiteStore.mainMigrator.migrate(queue, upTo: "v4: per-key limits")
            try await queue.write { db in
                for (id, user) in [("a", "u1"), ("b", "u2"), ("c", "u3")] {
                    try db.execute(
                        sql: "INSERT INTO events (id, user, item, creator, type, at) VALUES (?, ?, 'i1', 'c1', 'view', 0)", arguments: [id, user])
                }
                try db.execute(sql: "DELETE FROM events WHERE id = 'c'")
            }
        }
        let store = try SQLiteStore(directory: directory.path)
        let indexes = try await store.main.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE tbl_name = 'events' AND type = 'index'") }
        #expect(indexes.isEmpty)
        #expect(try await store.append([StoreContract.event("b"), StoreContract.event("d")]) == [false, true])
        let positions = try await store.main.read { db in try Int64.fetchAll(db, sql: "SELECT position FROM events ORDER BY position") }
        #expect(positions == [1, 2, 4])
        #expect(try await store.events(of: UserID(trusted: "u2")).map(\.id.rawValue) == ["b"])
    }
}
