// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou

/// `foryou keys`: API keys with roles, on a data folder (stop `serve` first: it holds the folder).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke API keys (roles: ingest, serve, admin, overseer).",
        discussion: "Once a data folder holds an active key, the server requires keys on every /v1 route but /v1/transparency.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once; only its hash is stored.")
        @OptionGroup var engine: EngineOptions
        @Option(help: "ingest, serve, admin or overseer.")
        var role: String
        @Option(help: "A name to recognise the key by.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                guard let parsed = APIRole(rawValue: role) else {
                    throw ForYouError(.invalidArgument, "--role must be one of \(APIRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let created = try await engine.open().createAPIKey(name: name, role: parsed)
                print(created.key)
                printError("created key \(created.record.id) (\(parsed.rawValue)); it is shown only now")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: id, role, name, created, revoked.")
        @OptionGroup var engine: EngineOptions

        func run() async throws {
            try await reportingErrors {
                for key in try await engine.open().apiKeys() {
                    print([key.id, key.role.rawValue, key.name, key.createdAt.rfc3339, key.revokedAt.map { "revoked \($0.rfc3339)" } ?? "active"].joined(separator: "\t"))
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id.")
        @OptionGroup var engine: EngineOptions
        @Argument(help: "The key id (from `keys list`).")
        var id: String

        func run() async throws {
            try await reportingErrors {
                try await engine.open().revokeAPIKey(id: id)
                print("revoked \(id)")
            }
        }
    }
}
