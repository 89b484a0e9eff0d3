// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ForYou
import ForYouServer
import Hummingbird
import Logging

/// Where the server listens; shared by `serve` and `demo`.
struct ServerOptions: ParsableArguments {
    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free port).")
    var port = 8080

    @Option(help: "The least severe log level written to standard error: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "notice"

    @Option(help: "Requests per second each API key may make (0: no limit); over it the answer is 429 with Retry-After.")
    var rateLimit: Double = 200

    @Option(help: "How many requests a key may make at once after being idle.")
    var burst = 400

    @Option(help: "Retrain the model every this many seconds when events arrived since the last training (0: only on request). With several servers on one database, set it on one of them and 0 on the others.")
    var trainEvery = 3600

    @Option(help: "How many API reads run at once, and separately one more write (the engine folds one event batch while it appends the next); beyond it requests wait, and each free slot goes to the next API key in turn, so a flooding key cannot starve the others. More helps a store whose requests wait on the network (PostgreSQL).")
    var concurrentRequests = 1

    @Option(help: "The largest request body in bytes (a key may have its own, see `keys create --max-body-bytes`); over it the answer is 413.")
    var maxBodyBytes = ForYouAPI.maximumBodyBytes

    @Option(help: "Connections open at once; beyond it a new connection's request is answered 503 `too_many_connections`. Lowered at start to the process's file-descriptor limit less 256 (the soft limit is first raised to the hard one).")
    var maxConnections = ConnectionLimits().maximumConnections

    @Option(help: "Seconds a new connection has to send a complete request head; then it is closed.")
    var headerTimeout = ConnectionLimits().headerTimeoutSeconds

    @Option(help: "Seconds a request has to send its whole body once its head arrived; then the connection is closed.")
    var bodyTimeout = ConnectionLimits().bodyTimeoutSeconds

    @Option(help: "Seconds a keep-alive connection may wait for its next request; then it is closed.")
    var idleTimeout = ConnectionLimits().idleTimeoutSeconds

    func validate() throws {
        guard ConnectionLimits.connectionsRange.contains(maxConnections) else {
            throw ValidationError("--max-connections must be in \(ConnectionLimits.connectionsRange), got \(maxConnections)")
        }
        for (name, value) in [("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout)] {
            guard ConnectionLimits.timeoutRange.contains(value) else {
                throw ValidationError("\(name) must be in \(ConnectionLimits.timeoutRange) seconds, got \(value)")
            }
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard rateLimit >= 0, rateLimit.isFinite else { throw ValidationError("--rate-limit must be >= 0, got \(rateLimit)") }
        guard burst >= 1 else { throw ValidationError("--burst must be >= 1, got \(burst)") }
        guard trainEvery >= 0 else { throw ValidationError("--train-every must be >= 0 seconds (0: only on request), got \(trainEvery)") }
        guard (1...1024).contains(concurrentRequests) else { throw ValidationError("--concurrent-requests must be in 1...1024, got \(concurrentRequests)") }
        guard APIKeyLimits.maximumBodyBytesRange.contains(maxBodyBytes) else {
            throw ValidationError("--max-body-bytes must be in \(APIKeyLimits.maximumBodyBytesRange), got \(maxBodyBytes)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \(logLevel)")
        }
    }

    /// Runs the API until SIGTERM or SIGINT.
    /// - Parameter ready: called with the bound port once the server accepts connections.
    func run(
        engine: Recommender, location: String, shared: (any SharedStore)? = nil, web: WebPages = WebPages(),
        ready: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let logger = {
            var logger = Logger(label: "foryou")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
            return logger
        }()
        let host = self.host
        if let problem = engine.modelLoadProblem { logger.warning("\(problem)") }
        if web.folder == nil {
            logger.warning("the web pages were not found next to the binary (foryou_ForYouServer.resources); the API works, / and /console answer 404")
        }
        let limits = RateLimits(requestsPerSecond: rateLimit, burst: burst, maximumBodyBytes: maxBodyBytes, concurrentRequests: concurrentRequests)
        let descriptors = FileDescriptorLimit.raise()
        var connections = ConnectionLimits(
            maximumConnections: maxConnections, headerTimeoutSeconds: headerTimeout, bodyTimeoutSeconds: bodyTimeout, idleTimeoutSeconds: idleTimeout)
        if let descriptors, descriptors - FileDescriptorLimit.reserve < connections.maximumConnections {
            connections.maximumConnections = max(1, descriptors - FileDescriptorLimit.reserve)
            logger.warning(
                "--max-connections lowered to \(connections.maximumConnections): the process may open \(descriptors) files, \(FileDescriptorLimit.reserve) are kept for the store and the audit log (raise `ulimit -n`)")
        }
        let app = ForYouAPI.makeApplication(engine: engine, host: host, port: port, logger: logger, web: web, limits: limits, connections: connections) { port in
            let sizes = engine.sizes
            logger.notice(
                "foryou ready: listening on http://\(host):\(port) (\(location), jurisdiction \(engine.configuration.jurisdiction), \(engine.requiresAuthentication ? "API keys required" : "OPEN: no API key exists, create one with `foryou keys create`"), \(sizes.items) items, \(sizes.users) users, model \(engine.currentModel?.version ?? Recommender.modelVersion))")
            await ready(port)
        }
        let trainEvery = self.trainEvery
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            if let shared {
                // Other servers on the same database: follow what they write until this one stops.
                group.addTask {
                    await engine.followChanges(of: shared) { error in logger.warning("following the shared store failed: \(error)") }
                }
            }
            if trainEvery > 0 {
                group.addTask { await engine.trainPeriodically(every: .seconds(trainEvery)) { logger.info("\($0)") } }
            }
            // The server stops on SIGTERM or SIGINT: then so do the others.
            try await group.next()
            group.cancelAll()
        }
        logger.notice("foryou stopped")
    }
}

/// Runs `body`, printing a `ForYouError` as `error: <message>` and exiting with status 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ForYouError {
        printError("error: \(error.message)")
        if let cause = error.cause { printError("cause: \(cause)") }
        throw ExitCode.failure
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    var standardError = StandardError()
    print(line, to: &standardError)
}

private struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleStandardError.emit(string)
    }
}

/// The process's limit on open files.
enum FileDescriptorLimit {
    /// Descriptors kept free of connections: the store's files, the audit log, the model files, logs.
    static let reserve = 256

    /// Raises the soft limit to the hard one and returns the soft limit now (`nil` if unknown).
    static func raise() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? nil : Int(limit.rlim_cur)  // unlimited (RLIM_INFINITY) is nil
    }
}
