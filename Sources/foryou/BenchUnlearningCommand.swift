// SPDX-License-Identifier: Apache-2.0
//
// `foryou bench unlearning`: what erasure costs now that it unlearns instead of retiring the model.
// - With `--interactions FILE` (offline): UnlearningEvaluation — 1, 10 and 100 users unlearned from
//   the default model fitted on the file, beside a refit without them (exactness, NDCG@10, ALS
//   distances, seconds).
// - Without (live): the engine on the embedded SQLite store with a world loaded and a model trained:
//   the demo world (6,000 items, 1,500 users) by default, or a generated one of `--items` × `--users`.
//   Two tasks request feeds back to back (what a busy server's feed path does), first alone, then
//   while one user is erased per second, each request sent on time whether or not the earlier ones
//   have answered (what a platform's erasure requests look like on a busy day, spread out); reported:
//   feed p50/p99 in both phases side by side, each erasure's time, how many unlearning steps served
//   them (erasures that wait are unlearned together), and which model versions the feeds named (the
//   trained model, unlearned, must serve throughout; feeds are timed within the phase, erasures until
//   they answer).

import ArgumentParser
import ForYou
import ForYouSQLite
import Foundation

struct BenchUnlearningCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlearning",
        abstract: "Measure erasure that unlearns: exactness and quality against a refit (--interactions), or its cost on a live engine.",
        discussion: "Build with -c release. Prints Markdown."
    )

    @Option(help: "Interactions (PROTOCOL.md's format) for the offline comparison with a refit; without it, the live run.")
    var interactions: String?

    @Option(help: "Users unlearned in the offline comparison, comma-separated.")
    var erase = "1,10,100"

    @Option(help: "Items of a generated world for the live run (0: the demo world).")
    var items = 0

    @Option(help: "Users of a generated world for the live run.")
    var users = 100_000

    @Option(help: "Seconds of each live phase (feeds alone, feeds with an erasure per second).")
    var seconds = 20

    @Option(help: "The seed of the world and of the users chosen.")
    var seed: UInt64 = 42

    func validate() throws {
        let counts = erase.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw ValidationError("--erase must be positive counts separated by commas, such as 1,10,100") }
        guard items == 0 || (1_000...5_000_000).contains(items) else { throw ValidationError("--items must be 0 (the demo world) or in 1000...5000000") }
        guard (1_000...5_000_000).contains(users) else { throw ValidationError("--users must be in 1000...5000000") }
        guard (5...3_600).contains(seconds) else { throw ValidationError("--seconds must be in 5...3600") }
    }

    func run() async throws {
        try await reportingErrors {
            if let interactions { try await offline(interactions) } else { try await live() }
        }
    }

    private func offline(_ path: String) async throws {
        let split = LeaveLastOutSplit(try InteractionFile.read(path, format: "auto"))
        let counts = erase.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        printError("\(split.users.count) users, \(split.items.count) items; unlearning \(counts) users beside a refit")
        let (fitSeconds, rows) = await UnlearningEvaluation.run(on: split, erasing: counts, seed: seed) { printError("  \($0)") }
        func f(_ value: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
        var lines = [
            "`foryou bench unlearning --interactions \((path as NSString).lastPathComponent)`: \(split.users.count) users, \(split.items.count) items; model fitted in \(f(fitSeconds, 1)) s",
            "",
            "| users unlearned | unlearn s | refit s | ALS items refitted | transitions max rel. diff | successors max rel. diff | equal to the refit | NDCG@10 before / unlearned / refit | ALS NDCG@10 before / unlearned / refit (refit, other seed) | ALS distance to refit before / after (refit, other seed) |",
            "|---:|---:|---:|---:|---:|---:|---|---|---|---|",
        ]
        for row in rows {
            let equal = row.exactParts.map { "\($0.name) \($0.equal ? "yes" : "NO")" }.joined(separator: ", ")
            lines.append(
                "| \(row.users) | \(f(row.unlearnSeconds, 2)) | \(f(row.refitSeconds, 1)) | \(row.refittedItems) | \(String(format: "%.1e", row.transitionsDifference)) | "
                    + "\(String(format: "%.1e", row.successorsDifference)) | \(equal) | \(f(row.ndcg.before)) / \(f(row.ndcg.unlearned)) / \(f(row.ndcg.refit)) | "
                    + "\(f(row.alsNDCG.before)) / \(f(row.alsNDCG.unlearned)) / \(f(row.alsNDCG.refit)) (\(f(row.alsNDCG.reseeded))) | \(f(row.distance.before, 3)) / \(f(row.distance.unlearned, 3)) (\(f(row.distance.noise, 3))) |")
        }
        print(lines.joined(separator: "\n"))
    }

    private func live() async throws {
        let folder = NSTemporaryDirectory() + "foryou-unlearning-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let engine = try await Recommender.open(store: try SQLiteStore(directory: folder))
        var userIDs: [String] = []
        var start = ContinuousClock.now
        var events = 0
        if items == 0 {
            let world = DemoWorld.generate(seed: seed, size: .demo, now: SystemWallClock().now())
            for batch in stride(from: 0, to: world.items.count, by: 1_000) { _ = try await engine.upsertItems(Array(world.items[batch..<min(world.items.count, batch + 1_000)])) }
            for batch in stride(from: 0, to: world.events.count, by: 1_000) { _ = try await engine.ingest(Array(world.events[batch..<min(world.events.count, batch + 1_000)])) }
            userIDs = world.users.map(\.id)
            events = world.events.count
        } else {
            let world = GeneratedWorld(items: items, users: users, eventsPerUser: 5, seed: seed, now: SystemWallClock().now())
            for batch in stride(from: 0, to: items, by: 1_000) { _ = try await engine.upsertItems(world.items(batch..<min(items, batch + 1_000))) }
            var stream = world.eventStream()
            while let batch = stream.next(1_000) {
                _ = try await engine.ingest(batch)
                events += batch.count
            }
            userIDs = (0..<users).map { "u\($0)" }
        }
        let loadSeconds = (ContinuousClock.now - start).inSeconds
        start = ContinuousClock.now
        let model: Recommender.ModelInfo
        if items == 0 {
            model = try await engine.train { printError("  \($0)") }  // the default training, as `foryou demo` runs it
        } else {
            // As `bench world` trains: fixed hyperparameters (no search), the two-part blend at this size.
            var als = ALSModel.Configuration()
            als.factors = 32
            als.iterations = 6
            model = try await engine.train(hyperparameters: BlendHyperparameters(BlendModel(transitions: .init(), als: als, transitionsWeight: 0.5))) { printError("  \($0)") }
        }
        let trainSeconds = (ContinuousClock.now - start).inSeconds
        printError("world ready: \(events) events loaded in \(String(format: "%.1f", loadSeconds)) s, \(model.description) trained in \(String(format: "%.1f", trainSeconds)) s; measuring ...")

        var random = SplitMix64(seed: seed &+ 7)
        var victims = userIDs
        victims.shuffle(using: &random)
        let seconds = seconds
        let ids = userIDs
        let alone = try await Self.feeds(engine, users: ids, seconds: seconds, erasing: [])
        let beside = try await Self.feeds(engine, users: ids, seconds: seconds, erasing: Array(victims.prefix(seconds)))
        func ms(_ sorted: [Double], _ q: Double) -> String {
            sorted.isEmpty ? "–" : String(format: "%.2f ms", sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] * 1_000)
        }
        let size = items == 0 ? "the demo world (6,000 items, 1,500 users)" : "\(items) items, \(users) users"
        var lines = [
            "`foryou bench unlearning\(items == 0 ? "" : " --items \(items) --users \(users)") --seconds \(seconds)`: \(size), \(events) events; \(model.description), trained in \(String(format: "%.1f", trainSeconds)) s",
            "",
            "| phase | feeds | feeds/s | feed p50 | feed p99 | feed max | erasures | unlearning steps | erasure p50 | erasure max | model versions the feeds named |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for (name, run) in [("feeds alone", alone), ("feeds, one erasure per second", beside)] {
            let versions = run.versions.sorted { $0.value > $1.value }.map { "\($0.key == Recommender.modelVersion ? "rules" : String($0.key.prefix(12))): \($0.value)" }
            lines.append(
                "| \(name) | \(run.feeds.count) | \(String(format: "%.0f", Double(run.feeds.count) / Double(seconds))) | \(ms(run.feeds, 0.5)) | \(ms(run.feeds, 0.99)) | \(ms(run.feeds, 1)) | "
                    + "\(run.erasures.count) | \(run.steps.count) | \(ms(run.erasures, 0.5)) | \(ms(run.erasures, 1)) | \(versions.count) versions; rules \(run.versions[Recommender.modelVersion] ?? 0) |")
        }
        if let outcome = beside.lastOutcome {
            lines.append("")
            lines.append("Last erasure: \(outcome.outcome.rawValue), \(outcome.refittedItems) ALS items refitted, \(outcome.unlearnedUsersSinceTraining) users unlearned since training, parts subtracted \(outcome.subtracted), refitted \(outcome.refitted), kept \(outcome.kept).")
        }
        print(lines.joined(separator: "\n"))
    }

    struct Run {
        var feeds: [Double] = []
        var erasures: [Double] = []
        var versions: [String: Int] = [:]
        var lastOutcome: ModelUnlearning?
        /// The distinct versions the erasures answered with: one per unlearning step.
        var steps: Set<String> = []
    }

    /// Two tasks request feeds for random users for `seconds`; a third erases `erasing`, one a second.
    static func feeds(_ engine: Recommender, users: [String], seconds: Int, erasing: [String]) async throws -> Run {
        let end = ContinuousClock.now + .seconds(seconds)
        return try await withThrowingTaskGroup(of: Run.self) { group in
            for task in 0..<2 {
                group.addTask {
                    var run = Run()
                    var random = SplitMix64(seed: UInt64(task) &+ 99)
                    while ContinuousClock.now < end {
                        let user = users[Int(random.next() % UInt64(users.count))]
                        let start = ContinuousClock.now
                        let feed = try await engine.feed(for: user, count: 20)
                        run.feeds.append((ContinuousClock.now - start).inSeconds)
                        run.versions[feed.modelVersion, default: 0] += 1
                    }
                    return run
                }
            }
            if !erasing.isEmpty {
                // Open loop: an erasure request every second, whether or not the earlier ones have answered.
                group.addTask {
                    let begin = ContinuousClock.now
                    return try await withThrowingTaskGroup(of: (Double, ModelUnlearning).self) { erasures in
                        for (index, user) in erasing.enumerated() {
                            let due = begin + .seconds(index)
                            guard due < end else { break }
                            if ContinuousClock.now < due { try await Task.sleep(until: due) }
                            erasures.addTask {
                                let start = ContinuousClock.now
                                let erasure = try await engine.eraseUser(user, actor: "bench")
                                return ((ContinuousClock.now - start).inSeconds, erasure.model)
                            }
                        }
                        var run = Run()
                        for try await (seconds, outcome) in erasures {
                            run.erasures.append(seconds)
                            run.lastOutcome = outcome
                            run.steps.insert(outcome.version ?? "rules")
                        }
                        return run
                    }
                }
            }
            var all = Run()
            for try await part in group {
                all.feeds += part.feeds
                all.erasures += part.erasures
                all.versions.merge(part.versions, uniquingKeysWith: +)
                all.lastOutcome = part.lastOutcome ?? all.lastOutcome
                all.steps.formUnion(part.steps)
            }
            all.feeds.sort()
            all.erasures.sort()
            return all
        }
    }
}
