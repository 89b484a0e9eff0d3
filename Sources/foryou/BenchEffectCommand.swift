// SPDX-License-Identifier: Apache-2.0
//
// `foryou bench effect`: event-to-effect, the time from a `like` being acknowledged to the state a
// feed is built from reflecting it. On the server that ingested it, the like is folded in before the
// acknowledgment (checked: the effect is there when `ingest` returns). Across servers on one
// PostgreSQL database, it travels by NOTIFY: two engines in this process, each on its own connection
// pool as two servers would be, one ingesting and one following; the follower's profile of the user is
// polled until the like shows.

import ArgumentParser
import ForYou
import ForYouPostgres
import Foundation

struct BenchEffectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "effect",
        abstract: "Measure event-to-effect: from a like's acknowledgment to the feed state reflecting it, on the same server and on another server of one PostgreSQL database.",
        discussion: "Build with -c release. Prints a Markdown table."
    )

    @Option(help: "A PostgreSQL server (postgres://user@host:port/database): a fresh database is created on it.")
    var server: String

    @Option(help: "How many likes to time.")
    var likes = 300

    func validate() throws {
        guard (10...100_000).contains(likes) else { throw ValidationError("--likes must be in 10...100000") }
    }

    func run() async throws {
        try await reportingErrors {
            let database = try await PostgresStore.createDatabase(named: "foryou_bench_\(UInt32.random(in: 0...UInt32.max))", on: server)
            let storeA = try await PostgresStore.connect(url: database)
            let storeB = try await PostgresStore.connect(url: database)
            defer {
                storeA.close()
                storeB.close()
            }
            let a = try await Recommender.open(store: storeA)
            let b = try await Recommender.open(store: storeB)
            let following = Task { await b.followChanges(of: storeB) }
            defer { following.cancel() }
            let items = (0..<likes).map { ItemInput(id: "v\($0)", creator: "c\($0 % 50)", tags: ["t\($0 % 20)"], durationMilliseconds: 15_000) }
            for batch in stride(from: 0, to: items.count, by: 1000) {
                _ = try await a.upsertItems(Array(items[batch..<min(items.count, batch + 1000)]))
            }
            try await Task.sleep(for: .milliseconds(500))  // the follower has the catalogue and listens

            var local: [Double] = []
            var remote: [Double] = []
            var seenLocally = 0
            for index in 0..<likes {
                // A new user per like: their profile holds exactly this one positive once it arrived.
                let user = "viewer-\(index)"
                let before = try b.profile(of: user).recentPositives
                let start = ContinuousClock.now
                _ = try await a.ingest([EventInput(id: "like-\(index)", user: user, item: "v\(index)", type: "like")])
                let acknowledged = ContinuousClock.now
                if try a.profile(of: user).recentPositives != before { seenLocally += 1 }
                local.append((acknowledged - start).inSeconds)
                while try b.profile(of: user).recentPositives == before {
                    guard ContinuousClock.now - acknowledged < .seconds(10) else {
                        throw ForYouError(.internal, "the other server did not see like \(index) within 10 s")
                    }
                    try await Task.sleep(for: .microseconds(100))
                }
                remote.append((ContinuousClock.now - acknowledged).inSeconds)
            }
            func f(_ value: Double) -> String { String(format: "%.2f", value * 1000) }
            print(
                """
                \(likes) likes, each by a new user, one at a time, on a PostgreSQL database; the follower polls its state every 0.1 ms.

                | where the feed is built | event-to-effect p50 ms | p99 ms | max ms |
                |---|---|---|---|
                | the server that acknowledged the like | 0 (folded in before the acknowledgment: \(seenLocally) of \(likes) visible when `ingest` returned) | | |
                | another server on the same database | \(f(percentile(remote, 0.5))) | \(f(percentile(remote, 0.99))) | \(f(remote.max() ?? 0)) |

                For scale: acknowledging a like (one durable INSERT and commit) took p50 \(f(percentile(local, 0.5))) ms, p99 \(f(percentile(local, 0.99))) ms.
                """)
        }
    }
}
