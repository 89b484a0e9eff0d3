// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
@testable import foryou
import Testing

struct CommandParsingTests {
    @Test func serveNeedsADataFolderAndDefaultsToLoopback() throws {
        let command = try #require(try ForYouCommand.parseAsRoot(["serve", "--data", "d"]) as? ServeCommand)
        #expect(command.engine.data == "d")
        #expect(command.server.host == "127.0.0.1")
        #expect(command.server.port == 8080)
        #expect(throws: (any Error).self) { try ForYouCommand.parseAsRoot(["serve"]) }
    }

    @Test func demoHasDefaultsForEverything() throws {
        let command = try #require(try ForYouCommand.parseAsRoot(["demo", "--port", "9000", "--seed", "7"]) as? DemoCommand)
        #expect(command.data == "demo-data")
        #expect(command.seed == 7)
        #expect(command.server.port == 9000)
    }

    @Test func aPortOutsideTheRangeIsAUsageError() {
        #expect(throws: (any Error).self) { try ForYouCommand.parseAsRoot(["serve", "--data", "d", "--port", "70000"]) }
        #expect(throws: (any Error).self) { try ForYouCommand.parseAsRoot(["serve", "--data", "d", "--port=-1"]) }
        #expect(throws: (any Error).self) { try ForYouCommand.parseAsRoot(["serve", "--data", "d", "--port", "http"]) }
        #expect(throws: (any Error).self) { try ForYouCommand.parseAsRoot(["serve", "--data", "d", "--log-level", "loud"]) }
    }

    @Test func everySubcommandHasHelp() {
        for name in ["serve", "demo", "bench"] {
            let help = ForYouCommand.helpMessage(for: ForYouCommand.configuration.subcommands.first { $0.configuration.commandName == name }!)
            #expect(help.contains("USAGE: foryou \(name)"), "\(help)")
        }
    }
}
