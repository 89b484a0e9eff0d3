// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import ForYouSQLite
import Foundation

/// `foryou demo`: a generated short-video world, loaded and served, with ready-to-run curl examples.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a short-video world, load it into a data folder and serve it.",
        discussion: """
            The world (400 creators, 6,000 items, 1,500 users with hidden interests, about 90,000 \
            events) is generated from --seed and loaded through the same validation and ingest path \
            as the HTTP API. A data folder that already holds data is served as it is.
            """
    )

    @Option(help: "The data folder.")
    var data = "demo-data"

    @Option(help: "The seed of the generated world.")
    var seed: UInt64 = 42

    @Option(help: "Write the world's positive engagements (views of at least half the video, likes, shares, comments, follows) as a user,item,timestamp CSV for `foryou eval`, and exit without serving.")
    var exportInteractions: String?

    @OptionGroup var server: ServerOptions

    func run() async throws {
        if let path = exportInteractions {
            let world = DemoWorld.generate(seed: seed, now: SystemWallClock().now())
            try world.positiveInteractionsCSV().write(toFile: path, atomically: true, encoding: .utf8)
            printError("wrote \(path)")
            return
        }
        try await reportingErrors {
            let store = try SQLiteStore(directory: data)
            let engine = try await Recommender.open(store: store)
            let world = DemoWorld.generate(seed: seed, now: SystemWallClock().now())
            if engine.sizes.items == 0 {
                printError("Loading the demo world (seed \(seed)) into \(data)/ ...")
                let started = ContinuousClock.now
                let loaded = try await DemoLoader.load(world, into: engine)
                printError("Loaded \(world.items.count) items and \(loaded.accepted) events in \(ContinuousClock.now - started).")
            } else {
                printError("\(data)/ already holds \(engine.sizes.items) items; serving it as it is.")
            }
            let user = world.users[0]
            try await server.run(engine: engine, dataFolder: data) { port in
                print(Self.examples(port: port, user: user))
                flushStandardOutput()
            }
        }
    }

    static func examples(port: Int, user: DemoWorld.User) -> String {
        let base = "http://127.0.0.1:\(port)"
        return """

            ForYou demo is running. Try, in another terminal:

              # the feed of a simulated user (hidden favourite tags: \(user.favouriteTags.joined(separator: ", ")))
              curl -s '\(base)/v1/users/\(user.id)/feed?count=5'

              # a brand-new user gets a cold-start feed; like a video and ask again: the feed changes at once
              curl -s '\(base)/v1/users/newcomer/feed?count=5'
              curl -s -X POST \(base)/v1/events -H 'content-type: application/json' \\
                -d '{"events":[{"id":"my-1","user":"newcomer","item":"v7","type":"like"},{"id":"my-2","user":"newcomer","item":"v7","type":"view","watch_ms":30000}]}'
              curl -s '\(base)/v1/users/newcomer/feed?count=5'

              # train a model on the events (a few seconds in a release build, minutes in a debug one);
              # feeds switch to it without a restart and report its model_version
              curl -s -X POST \(base)/v1/models/train
              curl -s '\(base)/v1/users/\(user.id)/feed?count=5'

              # add an item, erase a user, read the metrics
              curl -s -X PUT \(base)/v1/items -H 'content-type: application/json' \\
                -d '{"items":[{"id":"my-video","creator":"me","tags":["cats"],"duration_ms":15000,"language":"en"}]}'
              curl -s -X DELETE \(base)/v1/users/newcomer
              curl -s \(base)/metrics | head -20

            Stop with Ctrl-C.
            """
    }
}

/// Loads a generated world through the engine's public ingest path, in batches of 500 events.
enum DemoLoader {
    static func load(_ world: DemoWorld, into engine: Recommender) async throws -> IngestResult {
        for start in stride(from: 0, to: world.items.count, by: 1000) {
            _ = try await engine.upsertItems(Array(world.items[start..<min(start + 1000, world.items.count)]))
        }
        var total = IngestResult()
        for start in stride(from: 0, to: world.events.count, by: 500) {
            let result = try await engine.ingest(Array(world.events[start..<min(start + 500, world.events.count)]))
            total.accepted += result.accepted
            total.duplicates += result.duplicates
            total.rejected += result.rejected
        }
        return total
    }
}
