// SPDX-License-Identifier: Apache-2.0
//
// Versioned schema migrations, run when the store opens. Never edit a shipped migration: add one.

import GRDB

extension SQLiteStore {
    static var mainMigrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE items (
                        id TEXT PRIMARY KEY NOT NULL,   -- the client's item id
                        creator TEXT NOT NULL,
                        tags TEXT NOT NULL,             -- tags joined by U+001F (tags never hold control characters)
                        duration_ms INTEGER NOT NULL,
                        language TEXT NOT NULL,
                        published_at INTEGER NOT NULL   -- ms since the Unix epoch
                    );
                    CREATE TABLE events (
                        position INTEGER PRIMARY KEY AUTOINCREMENT,  -- append order, never reused
                        id TEXT NOT NULL UNIQUE,        -- the client's event id: idempotency key
                        user TEXT NOT NULL,
                        item TEXT,                      -- NULL only for a follow naming a creator
                        creator TEXT,                   -- the item's creator then, or the creator a follow names
                        type TEXT NOT NULL,
                        at INTEGER NOT NULL,            -- ms since the Unix epoch
                        watch_ms INTEGER,
                        item_duration_ms INTEGER        -- the item's duration then (completion's denominator)
                    );
                    CREATE INDEX events_by_user ON events(user);
                    """)
        }
        migrator.registerMigration("v2: models") { db in
            try db.execute(
                sql: """
                    CREATE TABLE models (
                        version TEXT PRIMARY KEY NOT NULL,  -- LearnedModel.version
                        saved_at INTEGER NOT NULL,          -- order of saving
                        bytes BLOB NOT NULL                 -- the model file (item-side weights only)
                    );
                    """)
        }
        migrator.registerMigration("v3: governance") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settings (
                        key TEXT PRIMARY KEY NOT NULL,      -- for example 'jurisdiction'
                        value TEXT NOT NULL
                    );
                    CREATE TABLE user_controls (
                        user TEXT PRIMARY KEY NOT NULL,
                        controls TEXT NOT NULL              -- UserControls as JSON
                    );
                    CREATE TABLE pseudonym_keys (
                        user TEXT PRIMARY KEY NOT NULL,
                        key BLOB NOT NULL                   -- 32 random bytes; deleted on erasure
                    );
                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY NOT NULL,       -- public key id
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        secret_hash BLOB NOT NULL,          -- SHA-256 of the key text; the key itself is never stored
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration("v4: per-key limits") { db in
            try db.execute(
                sql: """
                    ALTER TABLE api_keys ADD COLUMN rate_limit REAL;            -- requests per second; NULL: the server's default
                    ALTER TABLE api_keys ADD COLUMN max_body_bytes INTEGER;     -- NULL: the server's default
                    """)
        }
        // The log keeps only its append-order key. Its UNIQUE index on the client's ids and its index
        // on users took each new event at a random page of two B-trees, and rewriting those pages into
        // the WAL was most of the cost of a durable append. Ids are checked in memory (EventIDIndex);
        // a user's events are found by a scan (export and erasure, which compacts the file anyway).
        migrator.registerMigration("v5: event log without secondary indexes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events_v5 (
                        position INTEGER PRIMARY KEY AUTOINCREMENT,  -- append order, never reused
                        id TEXT NOT NULL,               -- the client's event id: idempotency key, unique (checked in memory)
                        user TEXT NOT NULL,
                        item TEXT,                      -- NULL only for a follow naming a creator
                        creator TEXT,                   -- the item's creator then, or the creator a follow names
                        type TEXT NOT NULL,
                        at INTEGER NOT NULL,            -- ms since the Unix epoch
                        watch_ms INTEGER,
                        item_duration_ms INTEGER        -- the item's duration then (completion's denominator)
                    );
                    INSERT INTO events_v5 SELECT position, id, user, item, creator, type, at, watch_ms, item_duration_ms
                        FROM events ORDER BY position;
                    -- Positions stay never reused, even those of erased events at the end of the log.
                    DELETE FROM sqlite_sequence WHERE name = 'events_v5';
                    INSERT INTO sqlite_sequence (name, seq) SELECT 'events_v5', seq FROM sqlite_sequence WHERE name = 'events';
                    DROP TABLE events;
                    ALTER TABLE events_v5 RENAME TO events;
                    """)
        }
        migrator.registerMigration("v6: event regions") { db in
            // Where within the jurisdiction an event happened (optional), for items' statistics per region.
            try db.execute(sql: "ALTER TABLE events ADD COLUMN region TEXT")
        }
        return migrator
    }

    static var servedMigrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE served (
                        user TEXT NOT NULL,
                        item TEXT NOT NULL,
                        at INTEGER NOT NULL             -- ms since the Unix epoch
                    );
                    CREATE INDEX served_by_user ON served(user);
                    CREATE INDEX served_by_time ON served(at);
                    """)
        }
        return migrator
    }
}
