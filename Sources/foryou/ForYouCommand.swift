// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

/// The `foryou` executable: one binary, one subcommand per job.
@main
struct ForYouCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "foryou",
        abstract: "A self-hosted \"For You\" feed engine: events in, a personalized feed out.",
        subcommands: [
            ServeCommand.self, DemoCommand.self, TrainCommand.self, EvalCommand.self, RecommendCommand.self, BenchCommand.self,
            KeysCommand.self, LicenseCommand.self, PackageCommand.self, AuditCommand.self,
        ]
    )
}
