// SPDX-License-Identifier: Apache-2.0
//
// Versioned schema migrations, run in order when the store connects (under an advisory lock, so two
// servers starting together do not both run one). Never edit a shipped migration: add one.

import ForYou
import PostgresNIO

extension PostgresStore {
    /// The migrations, in order: a name and its statements.
    public static let migrations: [(name: String, statements: [String])] = [
        (
            "v1: events, items, served history, models, governance",
            [
                """
                CREATE TABLE items (
                    id TEXT PRIMARY KEY,             -- the client's item id
                    creator TEXT NOT NULL,
                    tags TEXT NOT NULL,              -- tags joined by U+001F (tags never hold control characters)
                    duration_ms BIGINT NOT NULL,
                    language TEXT NOT NULL,
                    published_at BIGINT NOT NULL,    -- ms since the Unix epoch
                    first_upsert BIGSERIAL,          -- the catalogue's order: first upsert of the id
                    change BIGINT NOT NULL           -- item_changes value of the last upsert, for followers
                )
                """,
                "CREATE SEQUENCE item_changes",
                "CREATE INDEX items_by_change ON items(change)",
                """
                CREATE TABLE events (
                    position BIGSERIAL PRIMARY KEY,  -- append order = commit order (appends are serialised)
                    id TEXT NOT NULL UNIQUE,         -- the client's event id: idempotency key
                    user_id TEXT NOT NULL,
                    item TEXT,                       -- NULL only for a follow naming a creator, or a profile reset
                    creator TEXT,
                    type TEXT NOT NULL,
                    at BIGINT NOT NULL,              -- ms since the Unix epoch
                    watch_ms BIGINT,
                    item_duration_ms BIGINT
                )
                """,
                "CREATE INDEX events_by_user ON events(user_id)",
                """
                CREATE TABLE served (
                    recorded BIGSERIAL PRIMARY KEY,  -- recording order
                    user_id TEXT NOT NULL,
                    item TEXT NOT NULL,
                    at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX served_by_user ON served(user_id)",
                "CREATE INDEX served_by_time ON served(at)",
                """
                CREATE TABLE models (
                    version TEXT PRIMARY KEY,        -- LearnedModel.version
                    saved_at BIGINT NOT NULL,        -- order of saving (model_saves)
                    bytes BYTEA NOT NULL             -- the model file (item-side weights only)
                )
                """,
                "CREATE SEQUENCE model_saves",
                "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                "CREATE TABLE user_controls (user_id TEXT PRIMARY KEY, controls TEXT NOT NULL)",
                "CREATE TABLE pseudonym_keys (user_id TEXT PRIMARY KEY, key BYTEA NOT NULL)",
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    secret_hash BYTEA NOT NULL,      -- SHA-256 of the key text; the key itself is never stored
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT,
                    saved BIGSERIAL                  -- creation order
                )
                """,
                """
                CREATE TABLE audit (
                    sequence BIGINT PRIMARY KEY,     -- the entry's sequence number: one head across servers
                    line TEXT NOT NULL               -- {"entry":…,"hash":…}, as in audit.jsonl
                )
                """,
            ]
        ),
        (
            "v2: per-key limits",
            [
                "ALTER TABLE api_keys ADD COLUMN rate_limit DOUBLE PRECISION",  // requests per second; NULL: the server's default
                "ALTER TABLE api_keys ADD COLUMN max_body_bytes BIGINT",  // NULL: the server's default
            ]
        ),
        (
            "v3: change generations",
            [
                // One counter per kind of change followers must not miss (models, keys, controls,
                // erasure), bumped in the transaction that makes the change: notifications are hints,
                // these counters are what followers poll.
                "CREATE TABLE generations (kind TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                "INSERT INTO generations (kind, value) VALUES ('models', 0), ('keys', 0), ('controls', 0), ('erasure', 0)",
            ]
        ),
        (
            "v4: event regions",
            [
                // Where within the jurisdiction an event happened (optional), for items' statistics per region.
                "ALTER TABLE events ADD COLUMN region TEXT"
            ]
        ),
    ]

    /// Runs the migrations the database lacks, in one transaction: a failed migration leaves the schema
    /// as it was.
    func migrate() async throws {
        do {
            try await transaction(locking: .migrations) { connection in
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
                    logger: logger)
                var applied: Set<String> = []
                for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                    applied.insert(name)
                }
                for migration in Self.migrations where !applied.contains(migration.name) {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
                }
            }
        } catch let error as ForYouError {
            throw ForYouError(.unavailable, "the PostgreSQL schema migrations failed: \(error.message)", cause: error.cause)
        }
    }

    /// The migrations applied to the database, in order.
    public func appliedMigrations() async throws -> [String] {
        try await guarded {
            var names: [String] = []
            for try await name in try await client.query("SELECT name FROM schema_migrations ORDER BY applied_at, name", logger: logger)
                .decode(String.self)
            { names.append(name) }
            return names
        }
    }
}
