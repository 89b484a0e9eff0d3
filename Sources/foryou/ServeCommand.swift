// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import ForYouSQLite

/// `foryou serve`: the HTTP API on a data folder.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API from a data folder (created when missing) or a PostgreSQL database.",
        discussion: """
            Logs one line when it accepts requests. Stops cleanly on SIGTERM or SIGINT. A second \
            `serve` on the same data folder refuses to start. Several servers may share one PostgreSQL \
            database (--store): each follows the others' events, items, models, keys, controls and \
            erasures as they commit.
            """
    )

    @OptionGroup var engine: EngineOptions

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await reportingErrors {
            let store = try await engine.openStore()
            try await server.run(engine: try await engine.open(store: store), location: engine.location, shared: store as? any SharedStore)
        }
    }
}
