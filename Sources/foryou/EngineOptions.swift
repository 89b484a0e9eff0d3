// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Crypto
import ForYou
import ForYouSQLite
import Foundation

/// How the engine is configured on a data folder; shared by every command that opens one.
struct EngineOptions: ParsableArguments {
    @Option(help: "The data folder.")
    var data: String

    @Option(help: "The jurisdiction this deployment serves, such as us or eu (default: the one the data folder was created for, else local).")
    var jurisdiction: String?

    @Option(name: .customLong("licensor-key"), help: "A licensor's public key file (from `foryou license keygen`) whose algorithm packages may be installed; repeatable.")
    var licensorKeys: [String] = []

    /// Opens the store and the engine.
    func open() async throws -> Recommender {
        let store = try SQLiteStore(directory: data)
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
