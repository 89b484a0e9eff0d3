// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import ForYouSQLite
@testable import foryou
import Foundation
import Testing

/// The licensing flow through the CLI, in process: a licensor trains and packages, a licensee in another
/// jurisdiction verifies and installs; the audit log of both checks out, and a flipped byte is caught.
struct LicenseFlowTests {
    func run(_ arguments: [String]) async throws {
        var command = try ForYouCommand.parseAsRoot(arguments)
        if var async = command as? any AsyncParsableCommand {
            try await async.run()
        } else {
            try command.run()
        }
    }

    /// A small data folder with a trained model, in jurisdiction `jurisdiction`.
    func trainedFolder(_ path: String, jurisdiction: String) async throws {
        var configuration = Recommender.Configuration()
        configuration.jurisdiction = try Jurisdiction(validating: jurisdiction)
        let engine = try await Recommender.open(store: try SQLiteStore(directory: path), configuration: configuration)
        _ = try await engine.upsertItems((0..<12).map { ItemInput(id: "v\($0)", creator: "c\($0 % 3)", tags: ["t\($0 % 3)"], durationMilliseconds: 10_000) })
        let events = (0..<6).flatMap { user in (0..<4).map { EventInput(id: "e\(user)-\($0)", user: "u\(user)", item: "v\((user + $0 * 3) % 12)", type: "like") } }
        _ = try await engine.ingest(events)
        try await engine.train()
    }

    @Test func aLicensorPackagesAndALicenseeVerifiesAndInstalls() async throws {
        let root = NSTemporaryDirectory() + "foryou-license-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try await trainedFolder(root + "/licensor", jurisdiction: "us")
        try await run(["license", "keygen", "--output", root + "/acme"])
        let mode = try FileManager.default.attributesOfItem(atPath: root + "/acme.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try await run([
            "package", "create", "--data", root + "/licensor", "--key", root + "/acme.key", "--licensor", "Acme", "--licensee", "EU Op",
            "--license-jurisdiction", "eu", "--not-after", "2099-01-01T00:00:00Z", "--use", "serve", "--use", "retrain",
            "--output", root + "/model.fypkg",
        ])
        try await run(["license", "verify", "--licensor-key", root + "/acme.pub", "--jurisdiction", "eu", root + "/model.fypkg"])
        // Refused for another jurisdiction, and with an untrusted key.
        await #expect(throws: ExitCode.self) {
            try await run(["license", "verify", "--licensor-key", root + "/acme.pub", "--jurisdiction", "us", root + "/model.fypkg"])
        }
        try await run(["license", "keygen", "--output", root + "/other"])
        await #expect(throws: ExitCode.self) {
            try await run(["license", "verify", "--licensor-key", root + "/other.pub", "--jurisdiction", "eu", root + "/model.fypkg"])
        }
        // The licensee installs it in its own jurisdiction, then retrains from scratch on its own data.
        try await trainedFolder(root + "/licensee", jurisdiction: "eu")
        try await run(["package", "install", "--data", root + "/licensee", "--licensor-key", root + "/acme.pub", root + "/model.fypkg"])
        try await run(["train", "--data", root + "/licensee", "--from-scratch"])
        try await run(["audit", "verify", "--data", root + "/licensee"])
        let log = try String(contentsOfFile: root + "/licensee/audit.jsonl", encoding: .utf8)
        #expect(log.contains("\"model.installed\"") && log.contains("\"from_scratch\":\"true\""))

        // One flipped byte in the audit log is caught.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: root + "/licensee/audit.jsonl")))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/licensee/audit.jsonl"))
        await #expect(throws: ExitCode.self) { try await run(["audit", "verify", "--data", root + "/licensee"]) }
    }
}
