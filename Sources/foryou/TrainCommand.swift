// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import ForYouSQLite

/// `foryou train`: trains the default model on a data folder's event log and stores it there.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the default model on a data folder's events; the next `serve` uses it.",
        discussion: """
            Needs the folder to itself (stop `serve` first, or use POST /v1/models/train on a running \
            server, which trains and swaps the model in without a restart).
            """
    )

    @Option(help: "The data folder.")
    var data: String

    func run() async throws {
        try await reportingErrors {
            let engine = try await Recommender.open(store: try SQLiteStore(directory: data))
            let info = try await engine.train { printError($0) }
            print("trained \(info.version) on \(info.events) positive events of \(info.users) users: \(info.description)")
        }
    }
}
