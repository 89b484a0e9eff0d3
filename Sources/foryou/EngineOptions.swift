// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Crypto
import ForYou
import ForYouPostgres
import ForYouSQLite
import Foundation

/// How the engine is configured on a data folder; shared by every command that opens one.
struct EngineOptions: ParsableArguments {
    @Option(help: "The data folder of the embedded SQLite store (created when missing).")
    var data: String?

    @Option(help: "A PostgreSQL database instead of a data folder, shared by every server given the same URL: postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require].")
    var store: String?

    @Option(help: "The jurisdiction this deployment serves, such as us or eu (default: the one the data folder was created for, else local).")
    var jurisdiction: String?

    @Option(name: .customLong("licensor-key"), help: "A licensor's public key file (from `foryou license keygen`) whose algorithm packages may be installed; repeatable.")
    var licensorKeys: [String] = []

    func validate() throws {
        switch (data, store) {
        case (nil, nil): throw ValidationError("give --data DIR (the embedded store) or --store postgres://…")
        case (.some, .some): throw ValidationError("give --data or --store, not both")
        default: break
        }
    }

    /// Where the data lives, for messages (never a password).
    var location: String {
        if let data { return "data folder \(data)" }
        return "PostgreSQL " + PostgresStore.redacted(url: store ?? "")
    }

    /// Opens the store: the SQLite data folder, or the PostgreSQL database.
    func openStore() async throws -> any ForYouStore {
        if let store { return try await PostgresStore.connect(url: store) }
        return try SQLiteStore(directory: data ?? "")
    }

    /// Opens the store and the engine.
    func open() async throws -> Recommender {
        try await open(store: try await openStore())
    }

    /// Opens the engine on a store.
    func open(store: any ForYouStore) async throws -> Recommender {
        var configuration = Recommender.Configuration()
        var named = jurisdiction
        if named == nil { named = try await store.setting("jurisdiction") }
        configuration.jurisdiction = try Jurisdiction(validating: named ?? Jurisdiction.local.rawValue, field: "--jurisdiction")
        configuration.licensorKeys = try licensorKeys.map { try KeyFiles.publicKey(at: $0).rawRepresentation }.map { Array($0) }
        return try await Recommender.open(store: store, configuration: configuration)
    }
}

/// Licensor key files: one line of base64 each (`.key` private, `.pub` public).
enum KeyFiles {
    static func read(_ path: String) throws -> Data {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw ForYouError(.invalidArgument, "\(path) is not a key file (one line of base64, as `foryou license keygen` writes)") }
        return data
    }

    static func publicKey(at path: String) throws -> Curve25519.Signing.PublicKey {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: try read(path)) else {
            throw ForYouError(.invalidArgument, "\(path) does not hold an Ed25519 public key")
        }
        return key
    }

    static func privateKey(at path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: try read(path)) else {
            throw ForYouError(.invalidArgument, "\(path) does not hold an Ed25519 private key")
        }
        return key
    }
}
