// SPDX-License-Identifier: Apache-2.0
//
// A licensed algorithm package: how the recommendation algorithm travels between jurisdictions.
// It carries the code version, the hyperparameters and the item-side weights (a `LearnedModel` file),
// never a user id, user vector or event; a provenance record of what it was trained on; and a license.
// A licensor signs it with Ed25519; a deployment installs it only when the signature verifies against a
// licensor key it trusts, the weights match the signed digest, and the license covers its jurisdiction,
// today's date and the use. Models trained locally are stored in the same format, unsigned, with
// `origin: local` in their provenance.
//
// File format (little-endian), version 1:
//   magic "FYPKG\0\0\0" (8 bytes), format version (UInt32 = 1)
//   manifest length (UInt32), manifest (UTF-8 JSON, sorted keys)
//   weights length (UInt64), weights (a LearnedModel file)        -- the manifest holds their SHA-256
//   signature block length (UInt32: 0 when unsigned, else 96), then
//   the signer's Ed25519 public key (32 bytes) and the signature (64 bytes) over every byte before the block.

import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A parsed algorithm package. Parsing checks the format only; ``PackageVerifier`` decides whether it may run.
public struct AlgorithmPackage: Sendable {
    /// The engine and model code version written into packages this build creates.
    public static let codeVersion = "foryou-engine/1 blend-v1"
    public static let magic: [UInt8] = Array("FYPKG".utf8) + [0, 0, 0]
    public static let formatVersion: UInt32 = 1

    public let manifest: PackageManifest
    /// The weights section (a LearnedModel file).
    public let weights: [UInt8]
    /// Every byte the signature covers.
    let signedBytes: [UInt8]
    /// The signer's public key and signature, when signed.
    public let signature: (publicKey: [UInt8], signature: [UInt8])?

    /// A short id of the package: the first 12 hex digits of the SHA-256 of its signed bytes.
    public var id: String { String(SHA256.hexDigest(signedBytes).prefix(12)) }

    /// Builds an unsigned package around a model.
    public init(model: LearnedModel, provenance: Provenance, license: License?) {
        let weights = model.encoded()
        manifest = PackageManifest(
            codeVersion: Self.codeVersion, modelVersion: model.version, model: model.model.name,
            hyperparameters: BlendHyperparameters(model.model), weightsSHA256: SHA256.hexDigest(weights), provenance: provenance,
            license: license)
        self.weights = weights
        signedBytes = Self.layout(manifest: manifest, weights: weights)
        signature = nil
    }

    private init(manifest: PackageManifest, weights: [UInt8], signedBytes: [UInt8], signature: (publicKey: [UInt8], signature: [UInt8])?) {
        self.manifest = manifest
        self.weights = weights
        self.signedBytes = signedBytes
        self.signature = signature
    }

    private static func layout(manifest: PackageManifest, weights: [UInt8]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array((try? encoder.encode(manifest)) ?? Data())
        var writer = BinaryWriter()
        writer.writeRaw(magic)
        writer.write(formatVersion)
        writer.write(UInt32(json.count))
        writer.writeRaw(json)
        writer.write(UInt64(weights.count))
        writer.writeRaw(weights)
        return writer.bytes
    }

    /// This package signed with `key` (any earlier signature is replaced).
    public func signed(with key: Curve25519.Signing.PrivateKey) throws -> AlgorithmPackage {
        let signature = try key.signature(for: signedBytes)
        return AlgorithmPackage(
            manifest: manifest, weights: weights, signedBytes: signedBytes, signature: (Array(key.publicKey.rawRepresentation), Array(signature)))
    }

    /// The package file's bytes.
    public func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.writeRaw(signedBytes)
        if let signature {
            writer.write(UInt32(96))
            writer.writeRaw(signature.publicKey)
            writer.writeRaw(signature.signature)
        } else {
            writer.write(UInt32(0))
        }
        return writer.bytes
    }

    /// Whether `bytes` start like a package file.
    public static func isPackage(_ bytes: [UInt8]) -> Bool { bytes.starts(with: magic) }

    /// Parses a package file, checking its format (not its signature or license).
    /// - Throws: ``ForYouError/Code/packageMalformed`` naming what is wrong.
    public init(encoded bytes: [UInt8]) throws(ForYouError) {
        func malformed(_ why: String) -> ForYouError { ForYouError(.packageMalformed, "not a valid algorithm package: \(why)") }
        var reader = BinaryReader(bytes)
        do {
            guard try reader.readRaw(8) == Self.magic else { throw malformed("bad magic bytes") }
            let format = try reader.read(UInt32.self)
            guard format == Self.formatVersion else { throw malformed("format \(format) is not supported (this build reads \(Self.formatVersion))") }
            let manifestLength = Int(try reader.read(UInt32.self))
            let json = try reader.readRaw(manifestLength)
            let weightsLength = try reader.read(UInt64.self)
            guard weightsLength <= UInt64(bytes.count) else { throw malformed("the weights section is longer than the file") }
            let weights = try reader.readRaw(Int(weightsLength))
            let signedEnd = reader.offset
            let signatureLength = try reader.read(UInt32.self)
            var signature: (publicKey: [UInt8], signature: [UInt8])?
            switch signatureLength {
            case 0: signature = nil
            case 96: signature = (try reader.readRaw(32), try reader.readRaw(64))
            default: throw malformed("the signature block has length \(signatureLength), expected 0 or 96")
            }
            guard reader.isAtEnd else { throw malformed("bytes follow the signature block") }
            let manifest: PackageManifest
            do {
                manifest = try JSONDecoder().decode(PackageManifest.self, from: Data(json))
            } catch {
                throw malformed("the manifest is not valid JSON of the documented shape")
            }
            self.init(manifest: manifest, weights: weights, signedBytes: Array(bytes[..<signedEnd]), signature: signature)
        } catch let error as ForYouError where error.code == .packageMalformed {
            throw error
        } catch {
            throw malformed("the file ends too early")
        }
    }

    /// The model the package carries, after checking the weights against the manifest's digest.
    /// - Throws: ``ForYouError/Code/packageTampered`` or ``ForYouError/Code/packageMalformed``.
    public func model() throws(ForYouError) -> LearnedModel {
        guard SHA256.hexDigest(weights) == manifest.weightsSHA256 else {
            throw ForYouError(.packageTampered, "the package's weights do not match the SHA-256 its manifest gives for them")
        }
        let model: LearnedModel
        do {
            model = try LearnedModel(encoded: weights)
        } catch {
            throw ForYouError(.packageMalformed, "the package's weights are not a valid model file: \(error)")
        }
        guard model.version == manifest.modelVersion else {
            throw ForYouError(.packageMalformed, "the manifest names model \(manifest.modelVersion) but the weights are \(model.version)")
        }
        return model
    }
}

extension SHA256 {
    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    static func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return hasher.finalize().hexString
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex digits.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
