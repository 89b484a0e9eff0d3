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
        @Option(help: "This key's own requests per second, bursts of twice as many (0: unlimited; default: the server's --rate-limit).")
        var rateLimit: Double?
        @Option(help: "This key's own largest request body in bytes (default: the server's --max-body-bytes).")
        var maxBodyBytes: Int?

        func run() async throws {
            try await reportingErrors {
                guard let parsed = APIRole(rawValue: role) else {
                    throw ForYouError(.invalidArgument, "--role must be one of \(APIRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let limits = APIKeyLimits(requestsPerSecond: rateLimit, maximumBodyBytes: maxBodyBytes)
                let created = try await engine.open().createAPIKey(name: name, role: parsed, limits: limits)
                print(created.key)
                printError("created key \(created.record.id) (\(parsed.rawValue)); it is shown only now")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: id, role, name, created, revoked, and the key's own limits.")
        @OptionGroup var engine: EngineOptions

        func run() async throws {
            try await reportingErrors {
                for key in try await engine.open().apiKeys() {
                    let limits = [
                        key.limits.requestsPerSecond.map { "rate_limit=\($0)" }, key.limits.maximumBodyBytes.map { "max_body_bytes=\($0)" },
                    ].compactMap { $0 }
                    let columns = [key.id, key.role.rawValue, key.name, key.createdAt.rfc3339, key.revokedAt.map { "revoked \($0.rfc3339)" } ?? "active"]
                    print((columns + limits).joined(separator: "\t"))
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
