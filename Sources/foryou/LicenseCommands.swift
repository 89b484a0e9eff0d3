// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Crypto
import ForYou
import ForYouSQLite
import Foundation

/// `foryou license`: licensor keys, signing and verifying algorithm packages.
struct LicenseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "license", abstract: "Create licensor keys, sign and verify algorithm packages.",
        subcommands: [Keygen.self, Sign.self, Verify.self])

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new Ed25519 licensor key pair: PREFIX.key (private, mode 600) and PREFIX.pub.")
        @Option(help: "The path prefix of the two files.")
        var output: String

        func run() async throws {
            try await reportingErrors {
                let key = Curve25519.Signing.PrivateKey()
                let privatePath = output + ".key"
                let publicPath = output + ".pub"
                for path in [privatePath, publicPath] where FileManager.default.fileExists(atPath: path) {
                    throw ForYouError(.conflict, "\(path) exists; refusing to overwrite a key")
                }
                _ = FileManager.default.createFile(
                    atPath: privatePath, contents: Data((key.rawRepresentation.base64EncodedString() + "\n").utf8), attributes: [.posixPermissions: 0o600])
                try (key.publicKey.rawRepresentation.base64EncodedString() + "\n").write(toFile: publicPath, atomically: true, encoding: .utf8)
                print("wrote \(privatePath) (keep it secret) and \(publicPath) (give it to licensees: serve --licensor-key \(publicPath))")
            }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign (or re-sign) an algorithm package in place.")
        @Option(help: "The licensor's private key file.")
        var key: String
        @Argument(help: "The package file.")
        var package: String

        func run() async throws {
            try await reportingErrors {
                let parsed = try AlgorithmPackage(encoded: try readBytes(package))
                let signed = try parsed.signed(with: try KeyFiles.privateKey(at: key))
                try Data(signed.encoded()).write(to: URL(fileURLWithPath: package), options: .atomic)
                print("signed \(package): package \(signed.id)")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a package as a deployment would: intact, signed by a trusted licensor, licensed for a jurisdiction, a date and serving.",
            discussion: "Prints the manifest and the verdict; exits with status 1 and the refusal's code when it would be refused.")
        @Option(name: .customLong("licensor-key"), help: "A trusted licensor's public key file; repeatable.")
        var licensorKeys: [String]
        @Option(help: "The jurisdiction to check the license against.")
        var jurisdiction: String
        @Option(help: "The moment to check the license at (RFC 3339; default: now).")
        var at: String?
        @Argument(help: "The package file.")
        var package: String

        func run() async throws {
            try await reportingErrors {
                let parsed = try AlgorithmPackage(encoded: try readBytes(package))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(parsed.manifest), as: UTF8.self))
                let now = try at.map { raw in
                    guard let parsed = Timestamp(rfc3339: raw) else { throw ForYouError(.invalidTimestamp, "--at must be an RFC 3339 date-time") }
                    return parsed
                } ?? SystemWallClock().now()
                let verifier = PackageVerifier(
                    trustedKeys: try licensorKeys.map { Array(try KeyFiles.publicKey(at: $0).rawRepresentation) },
                    jurisdiction: try Jurisdiction(validating: jurisdiction, field: "--jurisdiction"))
                do throws(ForYouError) {
                    let model = try verifier.verify(parsed, use: "serve", now: now)
                    print("verified: package \(parsed.id) may serve \(model.version) in \(jurisdiction) at \(now.rfc3339)")
                } catch {
                    throw ForYouError(error.code, "refused (\(error.code)): \(error.message)")
                }
            }
        }
    }
}

/// `foryou package`: create and install algorithm packages.
struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package", abstract: "Create a licensed algorithm package from a data folder's model, or install one.",
        subcommands: [Create.self, Install.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Package the serving model (code version, hyperparameters, item-side weights, provenance; never user data) under a license, signed.")
        @OptionGroup var engine: EngineOptions
        @Option(help: "The licensor's private key file.")
        var key: String
        @Option(help: "The licensor's name.")
        var licensor: String
        @Option(help: "Who may run the package.")
        var licensee: String
        @Option(name: .customLong("license-jurisdiction"), help: "A jurisdiction the license covers; repeatable.")
        var licenseJurisdictions: [String]
        @Option(help: "Start of validity (RFC 3339; default: now).")
        var notBefore: String?
        @Option(help: "End of validity (RFC 3339).")
        var notAfter: String
        @Option(name: .customLong("use"), help: "A permitted use: serve or retrain; repeatable (default: serve).")
        var uses: [String] = []
        @Option(help: "Where to write the package.")
        var output: String

        func run() async throws {
            try await reportingErrors {
                let opened = try await engine.open()
                let license = License(
                    licensor: licensor, licensee: licensee, jurisdictions: licenseJurisdictions,
                    notBefore: notBefore ?? SystemWallClock().now().rfc3339, notAfter: notAfter, permittedUses: uses.isEmpty ? ["serve"] : uses)
                let package = try await opened.makePackage(license: license, signingKey: try KeyFiles.privateKey(at: key))
                try Data(package.encoded()).write(to: URL(fileURLWithPath: output), options: .atomic)
                print("wrote \(output): package \(package.id), model \(package.manifest.modelVersion), licensed to \(licensee) in \(licenseJurisdictions.joined(separator: ", "))")
            }
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a package against the trusted licensor keys and install it in a data folder (or use PUT /v1/models/package).")
        @OptionGroup var engine: EngineOptions
        @Argument(help: "The package file.")
        var package: String

        func run() async throws {
            try await reportingErrors {
                let opened = try await engine.open()
                let info = try await opened.installPackage(try readBytes(package), actor: "cli")
                print("installed package \(info.packageID ?? "?"): serving \(info.version)")
            }
        }
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ForYouError(.notFound, "cannot read \(path)") }
    return Array(data)
}
