// SPDX-License-Identifier: Apache-2.0
//
// `foryou bench`: ingest throughput and feed latency over HTTP on the demo world, with the comparison
// runs side by side in the same process and the same run:
//   - ingest into the durable SQLite store (an fsync per batch) vs. the in-memory store (no disk):
//     what durability costs;
//   - with --postgres, the same against a PostgreSQL store, side by side;
//   - feed requests vs. GET /healthz through the same server and client: what building a feed costs
//     on top of HTTP.
// The load generator (AsyncHTTPClient) runs in the same process as the server, so both share the
// machine's cores, as a load generator beside the server would.

import ArgumentParser
import AsyncHTTPClient
import ForYou
import ForYouPostgres
import ForYouServer
import ForYouSQLite
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure ingest throughput and feed latency over HTTP on the demo world.",
        discussion: "Build with -c release for figures worth reporting. Prints a Markdown table. `bench flood` measures per-key isolation.",
        subcommands: [BenchFloodCommand.self, BenchIndexCommand.self, BenchEffectCommand.self, BenchWorldCommand.self, BenchUnlearningCommand.self]
    )

    @Option(help: "Event batches to ingest per store (500 events each).")
    var batches = 100

    @Option(help: "Feed requests (and as many /healthz requests) per store.")
    var requests = 3_000

    @Option(help: "Concurrent client connections.")
    var concurrency = 2

    @Option(help: "The seed of the demo world.")
    var seed: UInt64 = 42

    @Option(help: "A PostgreSQL server (postgres://user@host:port/database) to measure beside SQLite: a fresh database is created on it.")
    var postgres: String?

    func validate() throws {
        guard batches >= 1 else { throw ValidationError("--batches must be >= 1") }
        guard requests >= 100 else { throw ValidationError("--requests must be >= 100") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be in 1...64") }
    }

    func run() async throws {
        let world = DemoWorld.generate(seed: seed, now: SystemWallClock().now())
        let folder = NSTemporaryDirectory() + "foryou-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var results: [(String, BenchResult)] = []
        var stores: [(String, any ForYouStore)] = [("SQLite (durable)", try SQLiteStore(directory: folder))]
        if let postgres {
            let database = try await PostgresStore.createDatabase(named: "foryou_bench_\(UInt32.random(in: 0...UInt32.max))", on: postgres)
            printError("created the database \(PostgresStore.redacted(url: database)) for this run")
            stores.append(("PostgreSQL (durable)", try await PostgresStore.connect(url: database)))
        }
        stores.append(("memory (not durable)", MemoryStore()))
        for (name, store) in stores {
            printError("[\(name)] loading the demo world: \(world.items.count) items, \(world.events.count) events ...")
            let engine = try await Recommender.open(store: store)
            _ = try await DemoLoader.load(world, into: engine)
            printError("[\(name)] measuring ...")
            results.append((name, try await measure(engine: engine, world: world, label: name)))
        }
        print(Self.report(results, world: world, batches: batches, requests: requests, concurrency: concurrency))
    }

    struct BenchResult {
        var eventsPerSecond: Double
        var feed: Latency
        var health: Latency
    }

    struct Latency {
        var p50: Double
        var p99: Double
        var perSecond: Double
        init(_ seconds: [Double], wall: Double) {
            p50 = percentile(seconds, 0.5) * 1000
            p99 = percentile(seconds, 0.99) * 1000
            perSecond = Double(seconds.count) / wall
        }
    }

    /// Serves the engine on a free loopback port and runs the three loads against it.
    func measure(engine: Recommender, world: DemoWorld, label: String) async throws -> BenchResult {
        let batches = self.batches
        let requests = self.requests
        let concurrency = self.concurrency
        return try await Self.serve(engine: engine) { base in

            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }

            // Ingest: batches of 500 fresh events, spread over the demo users and items.
            let prefix = "bench-\(label.prefix(3))"
            let bodies = (0..<batches).map { Self.batch(number: $0, prefix: prefix, world: world) }
            let ingestStart = ContinuousClock.now
            _ = try await Self.load(client: client, concurrency: concurrency, count: batches) { index in
                try await Self.send(client, .POST, base + "/v1/events", body: bodies[index])
            }
            let ingestSeconds = (ContinuousClock.now - ingestStart).inSeconds

            let users = world.users.map(\.id)
            let feedStart = ContinuousClock.now
            let feedLatencies = try await Self.load(client: client, concurrency: concurrency, count: requests) { index in
                try await Self.send(client, .GET, base + "/v1/users/\(users[(index * 7919) % users.count])/feed?count=10")
            }
            let feedWall = (ContinuousClock.now - feedStart).inSeconds

            let healthStart = ContinuousClock.now
            let healthLatencies = try await Self.load(client: client, concurrency: concurrency, count: requests) { _ in
                try await Self.send(client, .GET, base + "/healthz")
            }
            let healthWall = (ContinuousClock.now - healthStart).inSeconds
            return BenchResult(
                eventsPerSecond: Double(batches * 500) / ingestSeconds, feed: Latency(feedLatencies, wall: feedWall),
                health: Latency(healthLatencies, wall: healthWall))
        }
    }

    /// Serves the engine on a free loopback port with `limits` while `body` runs with the base URL.
    static func serve<T: Sendable>(
        engine: Recommender, limits: RateLimits = RateLimits(), _ body: @escaping @Sendable (String) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "foryou-bench")
        logger.logLevel = .critical
        let (ready, readyContinuation) = AsyncStream<Int>.makeStream()
        let app = ForYouAPI.makeApplication(engine: engine, host: "127.0.0.1", port: 0, logger: logger, limits: limits) { port in
            readyContinuation.yield(port)
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var iterator = ready.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ForYouError(.internal, "the bench server did not start") }
            let result = try await body("http://127.0.0.1:\(port)")
            group.cancelAll()
            return result
        }
    }

    /// Runs `count` requests over `concurrency` workers; returns each request's latency in seconds.
    static func load(
        client: HTTPClient, concurrency: Int, count: Int, _ request: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> [Double] {
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    for index in stride(from: worker, to: count, by: concurrency) {
                        let start = ContinuousClock.now
                        try await request(index)
                        latencies.append((ContinuousClock.now - start).inSeconds)
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
    }

    /// Sends one request and returns the body; anything but 200 is an error.
    @discardableResult
    static func send(_ client: HTTPClient, _ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw ForYouError(.internal, "\(method) \(url) answered \(response.status)") }
        return String(buffer: bytes)
    }

    static func batch(number: Int, prefix: String, world: DemoWorld) -> String {
        var random = SplitMix64(seed: UInt64(number) &* 0x9E37_79B9)
        let events = (0..<500).map { n -> String in
            let user = world.users[Int(random.next() % UInt64(world.users.count))].id
            let item = world.items[Int(random.next() % UInt64(world.items.count))].id!
            let id = "\(prefix)-\(number)-\(n)"
            switch random.next() % 10 {
            case 0: return #"{"id":"\#(id)","user":"\#(user)","item":"\#(item)","type":"like"}"#
            case 1, 2: return #"{"id":"\#(id)","user":"\#(user)","item":"\#(item)","type":"impression"}"#
            default: return #"{"id":"\#(id)","user":"\#(user)","item":"\#(item)","type":"view","watch_ms":\#(random.next() % 60_000)}"#
            }
        }
        return #"{"events":[\#(events.joined(separator: ","))]}"#
    }

    static func report(_ results: [(String, BenchResult)], world: DemoWorld, batches: Int, requests: Int, concurrency: Int) -> String {
        func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
        var out = """
            World: \(world.items.count) items, \(world.users.count) users, \(world.events.count) events loaded before measuring.
            Load: \(batches) batches of 500 events, \(requests) feed requests (count=10) and \(requests) /healthz requests, \(concurrency) connections.

            | store | ingest events/s | feed p50 ms | feed p99 ms | feed req/s | /healthz p50 ms | /healthz p99 ms | feed p50 ÷ /healthz p50 |
            |---|---|---|---|---|---|---|---|

            """
        for (name, r) in results {
            out += "| \(name) | \(f(r.eventsPerSecond, 0)) | \(f(r.feed.p50)) | \(f(r.feed.p99)) | \(f(r.feed.perSecond, 0)) | \(f(r.health.p50)) | \(f(r.health.p99)) | \(f(r.feed.p50 / r.health.p50, 1))× |\n"
        }
        if let memory = results.last, results.count >= 2 {
            out += "\n"
            for (name, result) in results.dropLast() {
                out += "\(name) ingest ÷ in-memory ingest: \(f(result.eventsPerSecond / memory.1.eventsPerSecond))× the throughput.\n"
            }
        }
        return out
    }
}

/// The value at fraction `p` (0...1) of the sorted values (the benchmarks' p50 and p99).
/// - Precondition: `values` is not empty.
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
