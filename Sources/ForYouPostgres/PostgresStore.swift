// SPDX-License-Identifier: Apache-2.0
//
// The store for deployments that outgrow one machine: one PostgreSQL database, shared by several
// `foryou serve` processes (see `SharedStore`).
//
//   events          the event log; appends are serialised by an advisory lock, so positions grow in
//                   commit order and followers paging the log never skip an event
//   items           the catalogue, with a change number per upsert (also serialised) for followers
//   served          served history, committed without waiting for the disk (synchronous_commit off):
//                   losing its last moments can at worst repeat an item once
//   models, settings, user_controls, pseudonym_keys, api_keys, audit   as in the SQLite store
//
// Every write commits with PostgreSQL's default synchronous_commit = on: an acknowledged event is on
// disk. Writers announce what they changed on the channel `foryou_changes` (NOTIFY, delivered at
// commit), which `changes()` listens to.

import ForYou
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The PostgreSQL store of the engine.
///
/// ```swift
/// let store = try await PostgresStore.connect(url: "postgres://foryou@127.0.0.1:5432/foryou")
/// let engine = try await Recommender.open(store: store)
/// ```
public final class PostgresStore: SharedStore {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// The database, for messages (never the password).
    public let description: String

    /// The channel writers notify and `changes()` listens to.
    static let channel = "foryou_changes"
    /// Advisory lock keys: one serialises event appends, one item upserts, one audit appends, one migrations.
    enum AdvisoryLock: Int64 {
        case events = 7_466_001
        case items = 7_466_002
        case audit = 7_466_003
        case migrations = 7_466_004
    }

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger, description: String) {
        self.client = client
        self.runner = runner
        self.logger = logger
        self.description = description
    }

    /// Connects to the database `url` names, runs the schema migrations it lacks, and returns the store.
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
    ///   - connectTimeout: how long to wait for the first connection.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a malformed URL; ``ForYouError/Code/unavailable``
    ///   when the database cannot be reached in time or a migration fails.
    public static func connect(url: String, connectTimeout: Duration = .seconds(30), logger: Logger? = nil) async throws -> PostgresStore {
        let target = try DatabaseURL(url)
        let logger =
            logger
            ?? {
                var logger = Logger(label: "foryou.postgres")
                logger.logLevel = .warning
                return logger
            }()
        var configuration = PostgresClient.Configuration(
            host: target.host, port: target.port, username: target.user, password: target.password, database: target.database,
            tls: target.tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = 16
        // A server cut off mid-transaction must not hold the event log's advisory lock for hours: its
        // session ends after 30 s idle in a transaction, and a lock wait fails after 30 s (503).
        configuration.options.additionalStartupParameters = [
            ("options", "-c idle_in_transaction_session_timeout=30000 -c lock_timeout=30000")
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        let store = PostgresStore(client: client, runner: runner, logger: logger, description: target.description)
        do {
            // The client retries a failing connection forever (a wrong password included): bound it.
            try await withTimeout(connectTimeout) { try await store.migrate() }
        } catch {
            store.close()
            if let error = error as? ForYouError { throw error }
            throw ForYouError(.unavailable, "cannot use the PostgreSQL database \(target.description): \(Self.explain(error))", cause: error)
        }
        return store
    }

    /// Creates an empty database on the server `serverURL` points to (its user must be allowed to), and
    /// returns the URL of the new database; for first setup and tests.
    /// - Parameter name: lowercase letters, digits and underscores, starting with a letter.
    public static func createDatabase(named name: String, on serverURL: String, timeout: Duration = .seconds(10)) async throws -> String {
        guard let first = name.first, first.isLowercase, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }), name.count <= 63
        else {
            throw ForYouError(.invalidArgument, "a database name must be 1...63 lowercase letters, digits and underscores, starting with a letter")
        }
        var target = try DatabaseURL(serverURL)
        var configuration = PostgresClient.Configuration(
            host: target.host, port: target.port, username: target.user, password: target.password, database: target.database, tls: target.tls)
        configuration.options.connectTimeout = timeout
        var logger = Logger(label: "foryou.postgres")
        logger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        do {
            _ = try await withTimeout(timeout) { [logger] in try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger) }
        } catch {
            throw ForYouError(.unavailable, "cannot create the database \(name) on \(target): \(explain(error))", cause: error)
        }
        target.database = name
        return target.urlString
    }

    /// A database URL without its password, for messages.
    public static func redacted(url: String) -> String {
        (try? DatabaseURL(url))?.description ?? "(a malformed URL)"
    }

    /// Closes the connections; the store cannot be used afterwards, and ``changes()`` streams end.
    public func close() {
        closed.withLock { $0 = true }
        runner.cancel()
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { closed.withLock { $0 } }
    private let closed = Mutex(false)
    /// Tables this store deleted rows from since the last ``compact()``.
    let tablesToCompact = Mutex<Set<String>>([])

    deinit { runner.cancel() }

    public func compact() async throws {
        // VACUUM FULL rewrites a table, so erased rows leave its data files (not only its visibility).
        // Only the tables this store deleted from since the last compaction: a rewrite locks the table.
        // PostgreSQL's WAL, archives and replicas keep old pages until they are recycled (see README).
        let tables = tablesToCompact.withLock { tables in
            defer { tables = [] }
            return tables.sorted()
        }
        for table in tables {
            try await guarded { try await client.query(PostgresQuery(unsafeSQL: "VACUUM FULL \(table)"), logger: logger) }
        }
    }

    // MARK: - Errors

    /// Runs `body`, turning database failures into ``ForYouError/Code/unavailable``: the request can be
    /// retried, and nothing of a failed transaction was written.
    @discardableResult
    func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ForYouError {
            throw error
        } catch {
            throw ForYouError(.unavailable, "the PostgreSQL store failed (\(Self.explain(error))); the request was not acknowledged: resend it with the same ids (what was stored is counted once)", cause: error)
        }
    }

    /// A short reason for a database error, without query text or bound values (which may hold user data).
    static func explain(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message], let state = error.serverInfo?[.sqlState] { return "\(message) [SQLSTATE \(state)]" }
            return "\(error.code)"
        }
        if error is CancellationError { return "timed out" }
        return "\(type(of: error))"
    }

    /// Runs `body` in a transaction holding the advisory lock `lock` until it commits.
    func transaction<T: Sendable>(locking lock: AdvisoryLock? = nil, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await guarded {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    if let lock { try await connection.query("SELECT pg_advisory_xact_lock(\(lock.rawValue))", logger: logger) }
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Announces a change to every follower (delivered when the surrounding transaction commits), and
    /// bumps its generation (for the kinds followers poll by generation).
    func notify(_ change: StoreChange, on connection: PostgresConnection) async throws {
        if change != .events && change != .items {
            try await connection.query("UPDATE generations SET value = value + 1 WHERE kind = \(change.rawValue)", logger: logger)
        }
        try await connection.query("SELECT pg_notify(\(Self.channel), \(change.rawValue))", logger: logger)
    }

    public func generations() async throws -> [StoreChange: Int64] {
        try await guarded {
            var generations: [StoreChange: Int64] = [:]
            for row in try await collect(try await client.query("SELECT kind, value FROM generations", logger: logger).decode((String, Int64).self)) {
                if let kind = StoreChange(rawValue: row.0) { generations[kind] = row.1 }
            }
            return generations
        }
    }
}

/// Runs `body`, cancelling it and throwing `CancellationError` after `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw CancellationError() }
        return value
    }
}
