// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import ForYouSQLite
import ForYouServer
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

    @Option(help: "The world's size: demo (400 creators, 6,000 items, 1,500 users) or small (40, 400, 100; loads in seconds).")
    var size = "demo"

    func validate() throws {
        guard ["demo", "small"].contains(size) else { throw ValidationError("--size must be demo or small, got \(size)") }
    }

    var worldSize: DemoWorld.Size { size == "small" ? .small : .demo }

    @Option(help: "Write the world's positive engagements (views of at least half the video, likes, shares, comments, follows) as a user,item,timestamp CSV for `foryou eval`, and exit without serving.")
    var exportInteractions: String?

    @OptionGroup var server: ServerOptions

    func run() async throws {
        if let path = exportInteractions {
            let world = DemoWorld.generate(seed: seed, size: worldSize, now: SystemWallClock().now())
            try world.positiveInteractionsCSV().write(toFile: path, atomically: true, encoding: .utf8)
            printError("wrote \(path)")
            return
        }
        try await reportingErrors {
            let store = try SQLiteStore(directory: data)
            let engine = try await Recommender.open(store: store)
            let world = DemoWorld.generate(seed: seed, size: worldSize, now: SystemWallClock().now())
            if engine.sizes.items == 0 {
                printError("Loading the demo world (seed \(seed)) into \(data)/ ...")
                let started = ContinuousClock.now
                let loaded = try await DemoLoader.load(world, into: engine)
                printError("Loaded \(world.items.count) items and \(loaded.accepted) events in \(ContinuousClock.now - started).")
            } else {
                printError("\(data)/ already holds \(engine.sizes.items) items; serving it as it is.")
            }
            let user = world.users[0]
            // Fresh demo keys on every start (the previous ones are revoked: a key is shown only once).
            for key in try await engine.apiKeys() where key.revokedAt == nil && key.name.hasPrefix("demo-") {
                try await engine.revokeAPIKey(id: key.id, actor: "demo")
            }
            let admin = try await engine.createAPIKey(name: "demo-admin", role: .admin, actor: "demo").key
            let overseer = try await engine.createAPIKey(name: "demo-overseer", role: .overseer, actor: "demo").key
            let viewers = world.users.prefix(8).map { (id: $0.id, description: "likes " + $0.favouriteTags.joined(separator: ", ")) }
            try await server.run(engine: engine, location: "data folder \(data)", web: WebPages(viewers: viewers)) { port in
                print(Self.examples(port: port, user: user, admin: admin, overseer: overseer))
                flushStandardOutput()
            }
        }
    }

    static func examples(port: Int, user: DemoWorld.User, admin: String, overseer: String) -> String {
        let base = "http://127.0.0.1:\(port)"
        return """

            ForYou demo is running.

              The feed page (watch, like, swipe; see what ForYou learns):  \(base)/#key=\(admin)
              The operator console (live figures, models, audit log):    \(base)/console#key=\(admin)

            Or try, in another terminal:

              # API keys for this run: an admin key (every route) and an overseer key (audit, provenance,
              # transparency; no personal data). Every request below carries the admin key.
              export FORYOU_KEY=\(admin)
              export FORYOU_OVERSEER_KEY=\(overseer)
              alias fy='curl -s -H "authorization: Bearer $FORYOU_KEY"'

              # the feed of a simulated user (hidden favourite tags: \(user.favouriteTags.joined(separator: ", ")))
              fy '\(base)/v1/users/\(user.id)/feed?count=5'

              # a brand-new user gets a cold-start feed; like a video and ask again: the feed changes at once
              fy '\(base)/v1/users/newcomer/feed?count=5'
              fy -X POST \(base)/v1/events -H 'content-type: application/json' \\
                -d '{"events":[{"id":"my-1","user":"newcomer","item":"v7","type":"like"},{"id":"my-2","user":"newcomer","item":"v7","type":"view","watch_ms":30000}]}'
              fy '\(base)/v1/users/newcomer/feed?count=5'

              # train a model on the events (about 15 seconds in a release build, minutes in a debug one);
              # feeds switch to it without a restart and report its model_version
              fy -X POST \(base)/v1/models/train
              fy '\(base)/v1/users/\(user.id)/feed?count=5'

              # add an item; erase a user: the model unlearns their events (the answer's "model" says how)
              # and keeps serving under a new model_version; then read the metrics
              fy -X PUT \(base)/v1/items -H 'content-type: application/json' \\
                -d '{"items":[{"id":"my-video","creator":"me","tags":["cats"],"duration_ms":15000,"language":"en"}]}'
              fy -X DELETE \(base)/v1/users/newcomer
              fy '\(base)/v1/users/\(user.id)/feed?count=5'
              fy \(base)/metrics | head -20

              # user controls: more of a topic, a keyword filter, the feed not based on profiling, reset
              fy -X PUT \(base)/v1/users/\(user.id)/controls -H 'content-type: application/json' \\
                -d '{"topics":{"\(user.favouriteTags.first ?? "cats")":"less"},"keyword_filters":["spoiler"]}'
              fy '\(base)/v1/users/\(user.id)/feed?count=5&personalized=false'
              fy -X POST \(base)/v1/users/\(user.id)/reset
              fy \(base)/v1/users/\(user.id)/export | head -c 600; echo

              # what an overseer sees: the transparency report, the serving model's provenance, the audit log
              curl -s \(base)/v1/transparency | head -c 600; echo
              curl -s -H "authorization: Bearer $FORYOU_OVERSEER_KEY" '\(base)/v1/audit?limit=3'
              curl -s -H "authorization: Bearer $FORYOU_OVERSEER_KEY" \(base)/v1/users/\(user.id)/feed   # 403: no personal data

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
