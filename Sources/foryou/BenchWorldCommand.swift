// SPDX-License-Identifier: Apache-2.0
//
// `foryou bench world`: a generated world of N items and U users on the durable SQLite store, a model
// trained on it with fixed hyperparameters (so the index path serves from 20,000 items up), then the
// server under load from wrk (Debian's package), a separate process on the same cores:
//   1. feeds alone, paced to about 500 requests/s (each connection waits `--feed-delay-ms` between
//      requests, so the rate is set by the script, not by how fast the server answers);
//   2. ingestion alone: batches of 500 events as fast as two connections can send them;
//   3. both at once;
//   4. event-to-effect: a like, then the next feed; counted as reflecting the like when the feed names
//      the liked item as the reason of an entry;
// with the resident memory of the process (server and engine; the load generator is outside it) at
// each step. One command, one table.

import ArgumentParser
import AsyncHTTPClient
import ForYou
import ForYouServer
import ForYouSQLite
import Foundation
import NIOCore
import NIOHTTP1

struct BenchWorldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "world",
        abstract: "Measure feeds, ingestion, event-to-effect and memory on a generated world of N items and U users, under load from wrk.",
        discussion: "Build with -c release. Needs wrk (apt-get install wrk). Prints a Markdown table."
    )

    @Option(help: "Items in the world.")
    var items = 100_000

    @Option(help: "Users in the world.")
    var users = 100_000

    @Option(help: "Mean events per user in the generated history.")
    var eventsPerUser = 5

    @Option(help: "Seconds of each feed phase (feeds alone, feeds with ingestion).")
    var seconds = 60

    @Option(help: "Seconds of the ingestion-alone phase.")
    var ingestSeconds = 20

    @Option(help: "wrk connections requesting feeds.")
    var feedConnections = 13

    @Option(help: "Milliseconds each feed connection waits between requests (13 connections, each waiting 20 ms plus the latency: 500–600 requests/s).")
    var feedDelayMs = 20

    @Option(help: "Likes timed for event-to-effect.")
    var likes = 200

    @Option(help: "ALS factors of the trained model.")
    var factors = 32

    @Option(help: "ALS sweeps of the trained model.")
    var iterations = 6

    @Flag(help: "Train the learned re-ranking stage too (the default training adds it up to 100,000 items), to time it beside the two-part blend.")
    var reranking = false

    @Option(help: "The seed of the world.")
    var seed: UInt64 = 42

    func validate() throws {
        guard (20_000...5_000_000).contains(items) else { throw ValidationError("--items must be in 20000...5000000 (from 20,000 items feeds retrieve from the index)") }
        guard (1_000...5_000_000).contains(users) else { throw ValidationError("--users must be in 1000...5000000") }
        guard (1...100).contains(eventsPerUser) else { throw ValidationError("--events-per-user must be in 1...100") }
        guard (5...3_600).contains(seconds) else { throw ValidationError("--seconds must be in 5...3600") }
        guard (5...3_600).contains(ingestSeconds) else { throw ValidationError("--ingest-seconds must be in 5...3600") }
        guard (1...256).contains(feedConnections) else { throw ValidationError("--feed-connections must be in 1...256") }
        guard (0...10_000).contains(feedDelayMs) else { throw ValidationError("--feed-delay-ms must be in 0...10000") }
        guard (10...10_000).contains(likes) else { throw ValidationError("--likes must be in 10...10000") }
        guard (4...256).contains(factors) else { throw ValidationError("--factors must be in 4...256") }
        guard (1...50).contains(iterations) else { throw ValidationError("--iterations must be in 1...50") }
    }

    func run() async throws {
        try await reportingErrors {
            guard let wrk = Self.executable(named: "wrk") else {
                throw ForYouError(.invalidArgument, "wrk is not installed: apt-get install wrk")
            }
            let folder = NSTemporaryDirectory() + "foryou-world-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var report = WorldReport(items: items, users: users)
            report.memory.append(("engine open, empty", Self.residentMegabytes()))
            let engine = try await Recommender.open(store: try SQLiteStore(directory: folder))
            let world = GeneratedWorld(items: items, users: users, eventsPerUser: eventsPerUser, seed: seed, now: SystemWallClock().now())

            var start = ContinuousClock.now
            for batch in stride(from: 0, to: items, by: 1_000) {
                _ = try await engine.upsertItems(world.items(batch..<min(items, batch + 1_000)))
            }
            report.steps.append(("upsert \(items) items", (ContinuousClock.now - start).inSeconds, nil))
            report.memory.append(("items loaded", Self.residentMegabytes()))

            start = ContinuousClock.now
            var events = 0
            var generator = world.eventStream()
            while let batch = generator.next(1_000) {
                let result = try await engine.ingest(batch)
                guard result.accepted == batch.count else { throw ForYouError(.internal, "generated events were refused: \(result)") }
                events += batch.count
            }
            let ingestSeconds = (ContinuousClock.now - start).inSeconds
            report.steps.append(("ingest \(events) events (engine API, batches of 1,000)", ingestSeconds, Double(events) / ingestSeconds))
            report.memory.append(("events folded in", Self.residentMegabytes()))

            start = ContinuousClock.now
            var als = ALSModel.Configuration()
            als.factors = factors
            als.iterations = iterations
            var hyperparameters = BlendHyperparameters(BlendModel(transitions: .init(), als: als, transitionsWeight: 0.5))
            hyperparameters.learnedReRanking = reranking ? true : nil
            let model = try await engine.train(hyperparameters: hyperparameters) { printError("  \($0)") }
            report.steps.append(("train \(model.description) and index \(model.items) items", (ContinuousClock.now - start).inSeconds, nil))
            report.memory.append(("model and index", Self.residentMegabytes()))
            report.retrieval = try Self.compareRetrieval(engine: engine, users: users)
            printError("world ready: \(items) items, \(users) users, \(events) events; measuring ...")

            let limits = RateLimits(requestsPerSecond: 0)
            let feedConnections = feedConnections
            let feedDelayMs = feedDelayMs
            let seconds = seconds
            let likes = likes
            let phaseSeconds = self.ingestSeconds
            let (loads, memory, effect) = try await BenchCommand.serve(engine: engine, limits: limits) { base in
                var loads: [(String, WrkResult, WrkResult?)] = []
                var memory: [(String, Double)] = []
                let feedScript = folder + "/feed.lua"
                try Self.feedScript(users: users, delay: feedDelayMs).write(toFile: feedScript, atomically: true, encoding: .utf8)
                func ingestScript(_ prefix: String) throws -> String {
                    let path = folder + "/ingest-\(prefix).lua"
                    try Self.ingestScript(prefix: prefix, users: users, items: items).write(toFile: path, atomically: true, encoding: .utf8)
                    return path
                }
                printError("serving on \(base)")
                let feedArguments = ["-t1", "-c\(feedConnections)", "-d\(seconds)s", "--latency", "-s", feedScript, base]

                loads.append(("feeds alone", try await Self.wrk(wrk, feedArguments), nil))
                memory.append(("after feeds alone", Self.residentMegabytes()))
                let ingest = try await Self.wrk(wrk, ["-t1", "-c2", "-d\(phaseSeconds)s", "--latency", "-s", try ingestScript("alone"), base])
                loads.append(("ingestion alone (500 events per request)", ingest, nil))
                async let both = Self.wrk(wrk, ["-t1", "-c2", "-d\(seconds)s", "--latency", "-s", try ingestScript("both"), base])
                let feedsWithIngest = try await Self.wrk(wrk, feedArguments)
                loads.append(("feeds with ingestion", feedsWithIngest, try await both))
                memory.append(("after load", Self.residentMegabytes()))
                let effect = try await Self.eventToEffect(base: base, world: world, likes: likes)
                return (loads, memory, effect)
            }
            report.loads = loads
            report.memory += memory
            report.effect = effect
            report.held = engine.statistics
            print(report.markdown(command: "foryou bench world --items \(items) --users \(users)"))
        }
    }

    // MARK: - Index against exact scoring

    struct RetrievalComparison {
        var users = 0
        var indexed: [Double] = []
        var exact: [Double] = []
        var recallAt10 = 0.0
        var recallAt50 = 0.0
    }

    /// The model's 50 best unseen items for up to 500 users with history, from the index and by scoring
    /// every item, timed side by side in this process (no HTTP); recall of the index against exact.
    static func compareRetrieval(engine: Recommender, users: Int) throws -> RetrievalComparison {
        var comparison = RetrievalComparison()
        var random = SplitMix64(seed: 7)
        var attempts = 0
        while comparison.users < 500 && attempts < 5_000 {
            attempts += 1
            let user = "u\(random.next() % UInt64(users))"
            var start = ContinuousClock.now
            let exact = try engine.learnedCandidates(for: user, count: 50, exact: true)
            let exactSeconds = (ContinuousClock.now - start).inSeconds
            guard exact.count == 50 else { continue }
            start = ContinuousClock.now
            let indexed = try engine.learnedCandidates(for: user, count: 50)
            comparison.indexed.append((ContinuousClock.now - start).inSeconds * 1000)
            comparison.exact.append(exactSeconds * 1000)
            comparison.recallAt10 += Double(Set(exact.prefix(10).map(\.item)).intersection(indexed.prefix(10).map(\.item)).count) / 10
            comparison.recallAt50 += Double(Set(exact.map(\.item)).intersection(indexed.map(\.item)).count) / 50
            comparison.users += 1
        }
        if comparison.users > 0 {
            comparison.recallAt10 /= Double(comparison.users)
            comparison.recallAt50 /= Double(comparison.users)
        }
        return comparison
    }

    // MARK: - wrk

    static func executable(named name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// What wrk reported: requests per second, latency percentiles (ms), errors.
    struct WrkResult {
        var requestsPerSecond = 0.0
        var requests = 0
        var percentiles: [Int: Double] = [:]
        var errors = 0
    }

    static func wrk(_ executable: String, _ arguments: [String]) async throws -> WrkResult {
        // Waited for on a thread of its own: blocking one of the two threads of Swift's cooperative pool
        // would starve the server under test.
        let output = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            Thread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    let pipe = Pipe()
                    process.standardOutput = pipe
                    try process.run()
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: String(decoding: data, as: UTF8.self))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
        var result = WrkResult()
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), let value = Double(fields.last ?? "") { result.requestsPerSecond = value }
            if fields.count >= 3, fields[1] == "requests", fields[2] == "in", let value = Int(fields[0]) { result.requests = value }
            if line.hasPrefix("Non-2xx or 3xx responses:"), let value = Int(fields.last ?? "") { result.errors += value }
            if line.hasPrefix("Socket errors:") {
                result.errors += line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.reduce(0, +)
            }
            if fields.count == 2, fields[0].hasSuffix("%"), let percent = Int(fields[0].dropLast()), let value = Self.milliseconds(String(fields[1])) {
                result.percentiles[percent] = value
            }
        }
        guard result.requests > 0 else { throw ForYouError(.internal, "wrk reported no requests:\n\(output)") }
        return result
    }

    /// wrk's "1.23ms", "456.00us", "1.02s" in milliseconds.
    static func milliseconds(_ text: String) -> Double? {
        for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * scale }
        }
        return nil
    }

    static func feedScript(users: Int, delay: Int) -> String {
        """
        math.randomseed(os.time())
        request = function()
          return wrk.format("GET", "/v1/users/u" .. math.random(0, \(users - 1)) .. "/feed?count=10")
        end
        delay = function() return \(delay) end
        """
    }

    /// Batches of 500 new events from random users on items skewed toward the popular (low) indices:
    /// 10% likes, 90% views with watch time.
    static func ingestScript(prefix: String, users: Int, items: Int) -> String {
        """
        local counter = 0
        local run = tostring(os.time()) .. "-\(prefix)-" .. tostring(math.random(1, 1000000000))
        request = function()
          counter = counter + 1
          local parts = {}
          for i = 1, 500 do
            local user = math.random(0, \(users - 1))
            local item = math.floor(\(items) * math.random() ^ 3)
            if math.random() < 0.1 then
              parts[i] = string.format('{"id":"%s-%d-%d","user":"u%d","item":"i%d","type":"like","region":"r%d"}', run, counter, i, user, item, user % \(GeneratedWorld.regions))
            else
              parts[i] = string.format('{"id":"%s-%d-%d","user":"u%d","item":"i%d","type":"view","watch_ms":%d,"region":"r%d"}', run, counter, i, user, item, math.random(1000, 60000), user % \(GeneratedWorld.regions))
            end
          end
          return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, '{"events":[' .. table.concat(parts, ",") .. ']}')
        end
        """
    }

    // MARK: - Event to effect

    struct Effect {
        var milliseconds: [Double]
        var reflected: Int
    }

    /// Likes an item for `likes` users who have history, then asks for their next feed: the time from
    /// the like's acknowledgment to that feed's response, and whether the feed names the liked item.
    static func eventToEffect(base: String, world: GeneratedWorld, likes: Int) async throws -> Effect {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        var times: [Double] = []
        var reflected = 0
        var random = SplitMix64(seed: 99)
        for n in 0..<likes {
            let user = "u\(random.next() % UInt64(world.userCount))"
            let item = world.itemFavouredBy(user: user, random: &random)
            let body = #"{"events":[{"id":"effect-\#(n)-\#(UUID().uuidString)","user":"\#(user)","item":"\#(item)","type":"like"}]}"#
            try await BenchCommand.send(client, .POST, base + "/v1/events", body: body)
            let acknowledged = ContinuousClock.now
            let feed = try await BenchCommand.send(client, .GET, base + "/v1/users/\(user)/feed?count=10")
            times.append((ContinuousClock.now - acknowledged).inSeconds * 1000)
            // Reasons read "because you watched ITEM" or "the trained model's pick after you watched ITEM".
            if feed.contains("watched \(item)\"") { reflected += 1 }
        }
        return Effect(milliseconds: times, reflected: reflected)
    }

    /// VmRSS of this process, in MiB.
    static func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
