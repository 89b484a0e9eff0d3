// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import ForYouSQLite

/// `foryou serve`: the HTTP API on a data folder.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API from a data folder (created when missing).",
        discussion: """
            Logs one line when it accepts requests. Stops cleanly on SIGTERM or SIGINT. A second \
            `serve` on the same data folder refuses to start.
            """
    )

    @Option(help: "The data folder: an empty or existing folder; the server creates what it needs.")
    var data: String

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await reportingErrors {
            let store = try SQLiteStore(directory: data)
            let engine = try await Recommender.open(store: store)
            try await server.run(engine: engine, dataFolder: data)
        }
    }
}
