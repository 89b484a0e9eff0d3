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

    @Test func serveTakesADataFolderOrADatabaseNotBoth() throws {
        let command = try #require(try ForYouCommand.parseAsRoot(["serve", "--store", "postgres://u@h/db"]) as? ServeCommand)
        #expect(command.engine.store == "postgres://u@h/db" && command.engine.data == nil)
        #expect(command.engine.location == "PostgreSQL postgres://u@h:5432/db")
        #expect(try ForYouCommand.parseAsRoot(["serve", "--store", "postgres://u:secret@h/db"]) is ServeCommand)
        let withPassword = try #require(try ForYouCommand.parseAsRoot(["serve", "--store", "postgres://u:secret@h/db"]) as? ServeCommand)
        #expect(!withPassword.engine.location.contains("secret"), "the password shows in \(withPassword.engine.location)")
        #expect(throws: (any Error).self) { try ForYouCommand.parseAsRoot(["serve", "--data", "d", "--store", "postgres://u@h/db"]) }
    }

    @Test func limitsOutsideTheirRangesAreUsageErrors() {
        for arguments in [
            ["--max-body-bytes", "10"], ["--max-body-bytes", "999999999999"], ["--concurrent-requests", "0"], ["--rate-limit", "-1"],
            ["--burst", "0"], ["--train-every", "-5"],
        ] {
            #expect(throws: (any Error).self, "\(arguments)") { try ForYouCommand.parseAsRoot(["serve", "--data", "d"] + arguments) }
        }
        #expect(throws: (any Error).self) { try ForYouCommand.parseAsRoot(["bench", "flood", "--concurrent-requests", "0"]) }
    }

    /// `bench world` refuses sizes and durations out of range, naming the option and its range.
    @Test func benchWorldOptionsOutsideTheirRangesAreUsageErrors() throws {
        for (arguments, option) in [
            (["--items", "100"], "--items"), (["--users", "10"], "--users"), (["--events-per-user", "0"], "--events-per-user"),
            (["--seconds", "1"], "--seconds"), (["--feed-connections", "0"], "--feed-connections"), (["--factors", "0"], "--factors"),
        ] {
            do {
                _ = try ForYouCommand.parseAsRoot(["bench", "world"] + arguments)
                Issue.record("\(arguments) was accepted")
            } catch {
                let message = ForYouCommand.message(for: error)
                #expect(message.contains(option), "\(message)")
            }
        }
        let command = try #require(try ForYouCommand.parseAsRoot(["bench", "world"]) as? BenchWorldCommand)
        #expect(command.items == 100_000 && command.users == 100_000 && command.feedConnections == 13)
    }

    /// `bench unlearning` refuses counts, sizes and durations out of range, naming the option.
    @Test func benchUnlearningOptionsOutsideTheirRangesAreUsageErrors() throws {
        for (arguments, option) in [
            (["--erase", "0"], "--erase"), (["--erase", "1,x"], "--erase"), (["--items", "10"], "--items"),
            (["--users", "10"], "--users"), (["--seconds", "1"], "--seconds"),
        ] {
            do {
                _ = try ForYouCommand.parseAsRoot(["bench", "unlearning"] + arguments)
                Issue.record("\(arguments) was accepted")
            } catch {
                let message = ForYouCommand.message(for: error)
                #expect(message.contains(option), "\(message)")
            }
        }
        let command = try #require(try ForYouCommand.parseAsRoot(["bench", "unlearning"]) as? BenchUnlearningCommand)
        #expect(command.items == 0 && command.erase == "1,10,100" && command.interactions == nil)
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
