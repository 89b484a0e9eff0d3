// SPDX-License-Identifier: Apache-2.0
//
// `foryou bench flood`: does one noisy key starve another? A quiet key asks for feeds at a steady pace
// and its latency is measured in three phases, side by side in one run on one engine:
//   1. alone;
//   2. while a second key floods the server from many connections, with the defaults: a per-key rate
//      limit (the flood is answered 429 beyond its budget) and the fair queue (free slots go to keys in
//      turn);
//   3. the same flood with the fair queue only (every flood request builds a feed);
//   4. the same flood with neither (requests run in arrival order, as many at once as arrive).
// The load generator runs in the same process as the server, sharing the machine's cores.

import ArgumentParser
import AsyncHTTPClient
import ForYou
import ForYouServer
import ForYouSQLite
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

struct BenchFloodCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Measure a quiet key's feed latency alone and while another key floods the server, with and without per-key rate limits.",
        discussion: "Build with -c release for figures worth reporting. Prints a Markdown table."
    )

    @Option(help: "Seconds per phase.")
    var seconds = 10

    @Option(help: "The quiet key's steady request rate (feeds per second).")
    var quietRate = 50

    @Option(help: "Connections the noisy key floods from.")
    var floodConnections = 8

    @Option(help: "The per-key rate limit of phase 2 (requests per second; burst twice as many).")
    var rateLimit = 200.0

    @Option(help: "API requests that run at once (the fair queue's slots) in phases 1 to 3.")
    var concurrentRequests = RateLimits().concurrentRequests

    @Option(help: "The seed of the demo world.")
    var seed: UInt64 = 42

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be in 1...600") }
        guard (1...1000).contains(quietRate) else { throw ValidationError("--quiet-rate must be in 1...1000") }
        guard (1...64).contains(floodConnections) else { throw ValidationError("--flood-connections must be in 1...64") }
        guard rateLimit > 0 else { throw ValidationError("--rate-limit must be > 0") }
        guard (1...1024).contains(concurrentRequests) else { throw ValidationError("--concurrent-requests must be in 1...1024") }
    }

    struct Phase {
        var name: String
        var quiet: [Double]
        var floodAnswers: [Int: Int]
        var seconds: Double
    }

    func run() async throws {
        let world = DemoWorld.generate(seed: seed, now: SystemWallClock().now())
        let folder = NSTemporaryDirectory() + "foryou-bench-flood-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let engine = try await Recommender.open(store: try SQLiteStore(directory: folder))
        printError("loading the demo world: \(world.items.count) items, \(world.events.count) events ...")
        _ = try await DemoLoader.load(world, into: engine)
        let quietKey = try await engine.createAPIKey(name: "quiet", role: .serve).key
        let noisyKey = try await engine.createAPIKey(name: "noisy", role: .serve).key
        let users = world.users.map(\.id)

        var phases: [Phase] = []
        let limited = RateLimits(requestsPerSecond: rateLimit, burst: Int(rateLimit * 2), concurrentRequests: concurrentRequests)
        for (name, limits, flood) in [
            ("quiet key alone", limited, false),
            ("+ flood: rate limit and fair queue", limited, true),
            ("+ flood: fair queue only", RateLimits(requestsPerSecond: 0, concurrentRequests: concurrentRequests), true),
            ("+ flood: neither", RateLimits(requestsPerSecond: 0, concurrentRequests: 1024), true),
        ] {
            printError("[\(name)] \(seconds) s ...")
            phases.append(
                try await BenchCommand.serve(engine: engine, limits: limits) { base in
                    try await measure(name: name, base: base, users: users, quietKey: quietKey, noisyKey: flood ? noisyKey : nil)
                })
        }
        print(report(phases))
    }

    func measure(name: String, base: String, users: [String], quietKey: String, noisyKey: String?) async throws -> Phase {
        let quietClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let floodClient = HTTPClient(eventLoopGroupProvider: .singleton)
        defer {
            _ = quietClient.shutdown()
            _ = floodClient.shutdown()
        }
        let duration = Duration.seconds(seconds)
        let start = ContinuousClock.now
        let answers = StatusCounts()
        let seconds = self.seconds
        let quietRate = self.quietRate
        let floodConnections = self.floodConnections
        let quiet = try await withThrowingTaskGroup(of: [Double].self) { group in
            if let noisyKey {
                for connection in 0..<floodConnections {
                    group.addTask {
                        var index = connection
                        while ContinuousClock.now - start < duration {
                            let status = try await Self.get(floodClient, base + "/v1/users/\(users[(index * 7919) % users.count])/feed?count=10", key: noisyKey)
                            answers.add(status)
                            index += floodConnections
                        }
                        return []
                    }
                }
            }
            group.addTask {
                // The quiet key: one request every 1/rate seconds, on schedule (a late one goes at once).
                var latencies: [Double] = []
                let interval = Duration.seconds(1) / quietRate
                for index in 0..<(seconds * quietRate) {
                    let due = start + interval * index
                    if due > ContinuousClock.now { try await Task.sleep(until: due) }
                    let sent = ContinuousClock.now
                    let status = try await Self.get(quietClient, base + "/v1/users/\(users[(index * 104_729) % users.count])/feed?count=10", key: quietKey)
                    guard status == 200 else { throw ForYouError(.internal, "the quiet key was answered \(status)") }
                    latencies.append((ContinuousClock.now - sent).inSeconds)
                }
                return latencies
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
        return Phase(name: name, quiet: quiet, floodAnswers: answers.all, seconds: (ContinuousClock.now - start).inSeconds)
    }

    static func get(_ client: HTTPClient, _ url: String, key: String) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    func report(_ phases: [Phase]) -> String {
        func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
        func milliseconds(_ values: [Double], _ p: Double) -> Double { percentile(values, p) * 1000 }
        let aloneP50 = milliseconds(phases[0].quiet, 0.5)
        let aloneP99 = milliseconds(phases[0].quiet, 0.99)
        var out = """
            Quiet key: \(quietRate) feed requests/s for \(seconds) s per phase; noisy key: \(floodConnections) connections as fast as they are answered; per-key limit in phase 2: \(f(rateLimit, 0))/s, burst \(Int(rateLimit * 2)); fair-queue slots in phases 1–3: \(concurrentRequests).

            | phase | quiet p50 ms | quiet p99 ms | quiet p99 ÷ alone | flood answered 200 /s | flood answered 429 /s |
            |---|---|---|---|---|---|

            """
        for phase in phases {
            let p99 = milliseconds(phase.quiet, 0.99)
            let ok = Double(phase.floodAnswers[200] ?? 0) / phase.seconds
            let limited = Double(phase.floodAnswers[429] ?? 0) / phase.seconds
            out += "| \(phase.name) | \(f(milliseconds(phase.quiet, 0.5))) | \(f(p99)) | \(f(p99 / aloneP99, 1))× | \(f(ok, 0)) | \(f(limited, 0)) |\n"
        }
        out += "\nAlone: p50 \(f(aloneP50)) ms, p99 \(f(aloneP99)) ms over \(phases[0].quiet.count) requests.\n"
        return out
    }
}

/// How many answers of each HTTP status the flood got.
private final class StatusCounts: Sendable {
    private let counts = Mutex<[Int: Int]>([:])
    func add(_ status: Int) { counts.withLock { $0[status, default: 0] += 1 } }
    var all: [Int: Int] { counts.withLock { $0 } }
}
