// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
@testable import foryou
import Foundation
import Testing

struct RecommendCommandTests {
    @Test func writesTheProtocolsBatchFormatExcludingSeenItemsWithColdStartForUnknownUsers() async throws {
        let folder = NSTemporaryDirectory() + "foryou-recommend-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Twelve users walk the chain 1 → 2 → ... → 8 from different starting points.
        var csv = "user,item,timestamp\n"
        for user in 0..<12 {
            for step in 0..<5 { csv += "u\(user),\(1 + (user % 4) + step),\(1000 + step)\n" }
        }
        try csv.write(toFile: folder + "/train.csv", atomically: true, encoding: .utf8)
        try "u0\nu3\nnobody\n".write(toFile: folder + "/users.txt", atomically: true, encoding: .utf8)

        let command = try RecommendCommand.parse([
            "--interactions", folder + "/train.csv", "--users", folder + "/users.txt", "--count", "3", "--output", folder + "/recs.csv",
        ])
        try await command.run()

        let lines = try String(contentsOfFile: folder + "/recs.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.first == "user,rank,item,score")
        let rows = lines.dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 9)
        let u0 = rows.filter { $0[0] == "u0" }
        #expect(u0.map { $0[1] } == ["1", "2", "3"])
        #expect(u0.first?[2] == "6")  // u0 watched 1...5: what comes next is 6
        #expect(!u0.contains { ["1", "2", "3", "4", "5"].contains($0[2]) })
        #expect(rows.filter { $0[0] == "nobody" }.count == 3)
    }

    @Test func filesWithNothingToLearnFromAreClearErrors() async throws {
        let folder = NSTemporaryDirectory() + "foryou-empty-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "user,item,timestamp\n".write(toFile: folder + "/empty.csv", atomically: true, encoding: .utf8)
        try "user,item,timestamp\nu1,a,1\nu1,b,2\n".write(toFile: folder + "/short.csv", atomically: true, encoding: .utf8)
        try "u1\n".write(toFile: folder + "/users.txt", atomically: true, encoding: .utf8)
        let recommend = try RecommendCommand.parse([
            "--interactions", folder + "/empty.csv", "--users", folder + "/users.txt", "--output", folder + "/out.csv",
        ])
        await #expect(throws: ExitCode.self) { try await recommend.run() }
        let eval = try EvalCommand.parse(["--data", folder + "/short.csv"])
        await #expect(throws: ExitCode.self) { try await eval.run() }
        #expect(throws: (any Error).self) { try EvalCommand.parse(["--data", "x.csv", "--format", "xml"]) }
    }

    @Test func aMissingFileIsAClearError() async throws {
        let command = try RecommendCommand.parse(["--interactions", "/nonexistent.csv", "--users", "/nonexistent.txt", "--output", "/tmp/x.csv"])
        await #expect(throws: ExitCode.self) { try await command.run() }
        #expect(throws: (any Error).self) { try RecommendCommand.parse(["--interactions", "a", "--users", "b", "--output", "c", "--count", "0"]) }
        // An unknown model is refused at parsing, naming the option and the choices.
        do {
            _ = try RecommendCommand.parse(["--interactions", "a", "--users", "b", "--output", "c", "--model", "sasrec"])
            Issue.record("accepted --model sasrec")
        } catch {
            let message = RecommendCommand.message(for: error)
            #expect(message.contains("--model") && message.contains("dlae") && message.contains("sasrec"), "\(message)")
        }
        #expect(RecommendCommand.makeModel("dlae")?.name.hasPrefix("DLAE") == true)
    }
}
