// SPDX-License-Identifier: Apache-2.0
//
// Items, events, models and served history. Batches go in one statement each (arrays unnested on the
// server), not a round trip per row.

import ForYou
import Foundation
import PostgresNIO
import Synchronization

// MARK: - ItemCatalog

extension PostgresStore {
    public func upsert(_ items: [Item]) async throws {
        guard !items.isEmpty else { return }
        // One row per id (the last version, at the place of its first): PostgreSQL refuses to update one
        // row twice in a statement.
        var order: [ItemID] = []
        var latest: [ItemID: Item] = [:]
        for item in items {
            if latest.updateValue(item, forKey: item.id) == nil { order.append(item.id) }
        }
        let rows = order.map { latest[$0]! }
        let ids = rows.map(\.id.rawValue)
        let creators = rows.map(\.creator.rawValue)
        let tags = rows.map { $0.tags.joined(separator: "\u{1F}") }
        let durations = rows.map(\.durationMilliseconds)
        let languages = rows.map(\.language)
        let published = rows.map(\.publishedAt.milliseconds)
        try await transaction(locking: .items) { connection in
            try await connection.query(
                """
                INSERT INTO items (id, creator, tags, duration_ms, language, published_at, change)
                SELECT id, creator, tags, duration_ms, language, published_at, nextval('item_changes')
                FROM unnest(\(ids)::text[], \(creators)::text[], \(tags)::text[], \(durations)::int8[], \(languages)::text[], \(published)::int8[])
                    WITH ORDINALITY AS batch(id, creator, tags, duration_ms, language, published_at, n)
                ORDER BY n
                ON CONFLICT (id) DO UPDATE SET creator = excluded.creator, tags = excluded.tags, duration_ms = excluded.duration_ms,
                    language = excluded.language, published_at = excluded.published_at, change = excluded.change
                """, logger: logger)
            try await notify(.items, on: connection)
        }
    }

    public func allItems() async throws -> [Item] {
        try await guarded {
            try await collect(
                try await client.query("SELECT id, creator, tags, duration_ms, language, published_at FROM items ORDER BY first_upsert", logger: logger)
                    .decode((String, String, String, Int64, String, Int64).self)
            ).map(Self.item(from:))
        }
    }

    public func items(changedAfter change: Int64) async throws -> (items: [Item], lastChange: Int64) {
        // One snapshot for both reads, so the last change number matches the rows read.
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            let rows = try await collect(
                try await connection.query(
                    "SELECT id, creator, tags, duration_ms, language, published_at, change FROM items WHERE change > \(change) ORDER BY change",
                    logger: logger
                ).decode((String, String, String, Int64, String, Int64, Int64).self))
            var last = rows.last?.6 ?? change
            if rows.isEmpty {
                for try await highest in try await connection.query("SELECT COALESCE(MAX(change), 0) FROM items", logger: logger).decode(Int64.self) {
                    last = min(change, highest)
                }
            }
            return (rows.map { Self.item(from: ($0.0, $0.1, $0.2, $0.3, $0.4, $0.5)) }, last)
        }
    }

    private static func item(from row: (String, String, String, Int64, String, Int64)) -> Item {
        Item(
            id: ItemID(trusted: row.0), creator: CreatorID(trusted: row.1),
            tags: row.2.isEmpty ? [] : row.2.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init),
            durationMilliseconds: row.3, language: row.4, publishedAt: Timestamp(milliseconds: row.5))
    }
}

// MARK: - EventLog

extension PostgresStore {
    public func append(_ events: [Event]) async throws -> [Bool] {
        guard !events.isEmpty else { return [] }
        // Absent values travel as '' (ids are never empty) and -1 (durations are never negative).
        let ids = events.map(\.id.rawValue)
        let users = events.map(\.user.rawValue)
        let items = events.map { $0.item?.rawValue ?? "" }
        let creators = events.map { $0.creator?.rawValue ?? "" }
        let types = events.map(\.type.rawValue)
        let times = events.map(\.at.milliseconds)
        let watches = events.map { $0.watchMilliseconds ?? -1 }
        let durations = events.map { $0.itemDurationMilliseconds ?? -1 }
        let regions = events.map { $0.region?.rawValue ?? "" }
        let inserted = try await transaction(locking: .events) { connection in
            let inserted = try await collect(
                try await connection.query(
                    """
                    INSERT INTO events (id, user_id, item, creator, type, at, watch_ms, item_duration_ms, region)
                    SELECT id, user_id, NULLIF(item, ''), NULLIF(creator, ''), type, at, NULLIF(watch_ms, -1), NULLIF(item_duration_ms, -1),
                        NULLIF(region, '')
                    FROM unnest(\(ids)::text[], \(users)::text[], \(items)::text[], \(creators)::text[], \(types)::text[], \(times)::int8[],
                        \(watches)::int8[], \(durations)::int8[], \(regions)::text[])
                        WITH ORDINALITY AS batch(id, user_id, item, creator, type, at, watch_ms, item_duration_ms, region, n)
                    ORDER BY n
                    ON CONFLICT (id) DO NOTHING
                    RETURNING id
                    """, logger: logger
                ).decode(String.self))
            if !inserted.isEmpty { try await notify(.events, on: connection) }
            return Set(inserted)
        }
        // Within a batch, the first event with an id is the one stored.
        var claimed: Set<String> = []
        return ids.map { inserted.contains($0) && claimed.insert($0).inserted }
    }

    public func page(after position: Int64, limit: Int) async throws -> EventLogPage {
        try await guarded {
            let rows = try await collect(
                try await client.query(
                    """
                    SELECT position, id, user_id, item, creator, type, at, watch_ms, item_duration_ms, region FROM events
                    WHERE position > \(position) ORDER BY position LIMIT \(Int64(limit))
                    """, logger: logger
                ).decode((Int64, String, String, String?, String?, String, Int64, Int64?, Int64?, String?).self))
            return EventLogPage(events: rows.map(Self.event(from:)), lastPosition: rows.last?.0 ?? position)
        }
    }

    public func events(of user: UserID) async throws -> [Event] {
        try await guarded {
            try await collect(
                try await client.query(
                    """
                    SELECT position, id, user_id, item, creator, type, at, watch_ms, item_duration_ms, region FROM events
                    WHERE user_id = \(user.rawValue) ORDER BY position
                    """, logger: logger
                ).decode((Int64, String, String, String?, String?, String, Int64, Int64?, Int64?, String?).self)
            ).map(Self.event(from:))
        }
    }

    public func count() async throws -> Int {
        try await guarded {
            try await collect(try await client.query("SELECT COUNT(*) FROM events", logger: logger).decode(Int64.self)).first.map(Int.init) ?? 0
        }
    }

    public func eraseEvents(of user: UserID) async throws -> Int {
        try await transaction(locking: .events) { connection in
            let deleted = try await collect(
                try await connection.query("DELETE FROM events WHERE user_id = \(user.rawValue) RETURNING position", logger: logger).decode(Int64.self))
            if !deleted.isEmpty {
                try await notify(.erasure, on: connection)
                tablesToCompact.withLock { _ = $0.insert("events") }
            }
            return deleted.count
        }
    }

    private static func event(from row: (Int64, String, String, String?, String?, String, Int64, Int64?, Int64?, String?)) -> Event {
        Event(
            id: EventID(trusted: row.1), user: UserID(trusted: row.2), item: row.3.map(ItemID.init(trusted:)),
            creator: row.4.map(CreatorID.init(trusted:)), type: EventType(rawValue: row.5) ?? .impression,
            at: Timestamp(milliseconds: row.6), watchMilliseconds: row.7, itemDurationMilliseconds: row.8,
            region: row.9.map(RegionID.init(trusted:)))
    }
}

// MARK: - ModelStore

extension PostgresStore {
    /// How many model files are kept; older ones are deleted when a new one is saved.
    static let modelsKept: Int64 = 3

    public func saveModel(_ bytes: [UInt8], version: String) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO models (version, saved_at, bytes) VALUES (\(version), nextval('model_saves'), \(Data(bytes)))
                ON CONFLICT (version) DO UPDATE SET saved_at = excluded.saved_at, bytes = excluded.bytes
                """, logger: logger)
            try await connection.query(
                "DELETE FROM models WHERE version NOT IN (SELECT version FROM models ORDER BY saved_at DESC LIMIT \(Self.modelsKept))",
                logger: logger)
            try await notify(.models, on: connection)
        }
    }

    public func savedModels() async throws -> [[UInt8]] {
        try await guarded {
            try await collect(try await client.query("SELECT bytes FROM models ORDER BY saved_at DESC", logger: logger).decode(Data.self)).map { Array($0) }
        }
    }

    public func deleteModels() async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM models", logger: logger)
            try await notify(.models, on: connection)
        }
    }
}

// MARK: - ServedHistory

extension PostgresStore {
    public func record(_ records: [ServedRecord]) async throws {
        guard !records.isEmpty else { return }
        let users = records.map(\.user.rawValue)
        let items = records.map(\.item.rawValue)
        let times = records.map(\.at.milliseconds)
        try await transaction { connection in
            // Served history may lose its last moments in a crash (see ServedHistory): no wait for the disk.
            try await connection.query("SET LOCAL synchronous_commit = off", logger: logger)
            try await connection.query(
                """
                INSERT INTO served (user_id, item, at)
                SELECT user_id, item, at FROM unnest(\(users)::text[], \(items)::text[], \(times)::int8[]) WITH ORDINALITY AS batch(user_id, item, at, n)
                ORDER BY n
                """, logger: logger)
        }
    }

    public func served(since: Timestamp) async throws -> [ServedRecord] {
        try await servedRecords("SELECT user_id, item, at FROM served WHERE at >= \(since.milliseconds) ORDER BY recorded")
    }

    public func served(of user: UserID) async throws -> [ServedRecord] {
        try await servedRecords("SELECT user_id, item, at FROM served WHERE user_id = \(user.rawValue) ORDER BY recorded")
    }

    public func eraseServed(of user: UserID) async throws -> Int {
        let deleted = try await guarded {
            try await collect(try await client.query("DELETE FROM served WHERE user_id = \(user.rawValue) RETURNING at", logger: logger).decode(Int64.self)).count
        }
        if deleted > 0 { tablesToCompact.withLock { _ = $0.insert("served") } }
        return deleted
    }

    public func pruneServed(before: Timestamp) async throws -> Int {
        try await guarded {
            try await collect(try await client.query("DELETE FROM served WHERE at < \(before.milliseconds) RETURNING at", logger: logger).decode(Int64.self)).count
        }
    }

    private func servedRecords(_ query: PostgresQuery) async throws -> [ServedRecord] {
        try await guarded {
            try await collect(try await client.query(query, logger: logger).decode((String, String, Int64).self)).map {
                ServedRecord(user: UserID(trusted: $0.0), item: ItemID(trusted: $0.1), at: Timestamp(milliseconds: $0.2))
            }
        }
    }
}

/// Every element of an async sequence, in order.
func collect<S: AsyncSequence>(_ sequence: S) async throws -> [S.Element] {
    var elements: [S.Element] = []
    for try await element in sequence { elements.append(element) }
    return elements
}
