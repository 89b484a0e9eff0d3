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

    @OptionGroup var engine: EngineOptions

    @Flag(help: "Train on local data alone, choosing hyperparameters locally, even when a licensed package permits reusing its own.")
    var fromScratch = false

    func run() async throws {
        try await reportingErrors {
            let info = try await engine.open().train(fromScratch: fromScratch, actor: "cli") { printError($0) }
            print("provenance: origin \(info.provenance?.origin ?? "local"), from scratch: \(info.provenance?.fromScratch ?? true), dataset sha256 \(info.provenance?.datasetSHA256 ?? "-")")
            print("trained \(info.version) on \(info.events) positive events of \(info.users) users: \(info.description)")
        }
    }
}
