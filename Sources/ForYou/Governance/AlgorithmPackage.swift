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

/// The terms under which a licensee may run a package.
public struct License: Sendable, Equatable, Codable {
    /// Who issued the license.
    public var licensor: String
    /// Who may run the package.
    public var licensee: String
    /// The jurisdictions the package may serve in.
    public var jurisdictions: [String]
    /// The first and last moment the license is valid (RFC 3339).
    public var notBefore: String
    public var notAfter: String
    /// What the licensee may do: `serve` (rank feeds with the weights), `retrain` (reuse the
    /// hyperparameters to train on local data).
    public var permittedUses: [String]

    public static let uses = ["serve", "retrain"]

    public init(licensor: String, licensee: String, jurisdictions: [String], notBefore: String, notAfter: String, permittedUses: [String]) {
        self.licensor = licensor
        self.licensee = licensee
        self.jurisdictions = jurisdictions
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.permittedUses = permittedUses
    }

    enum CodingKeys: String, CodingKey {
        case licensor, licensee, jurisdictions
        case notBefore = "not_before"
        case notAfter = "not_after"
        case permittedUses = "permitted_uses"
    }

    /// Checks that the terms are well formed, naming the field.
    public func validate() throws(ForYouError) {
        guard !licensor.isEmpty, !licensee.isEmpty else { throw ForYouError(.invalidArgument, "`licensor` and `licensee` must not be empty") }
        guard !jurisdictions.isEmpty else { throw ForYouError(.invalidArgument, "`jurisdictions` must name at least one jurisdiction") }
        for jurisdiction in jurisdictions { _ = try Jurisdiction(validating: jurisdiction, field: "jurisdictions") }
        guard let start = Timestamp(rfc3339: notBefore) else { throw ForYouError(.invalidTimestamp, "`not_before` must be an RFC 3339 date-time") }
        guard let end = Timestamp(rfc3339: notAfter) else { throw ForYouError(.invalidTimestamp, "`not_after` must be an RFC 3339 date-time") }
        guard start < end else { throw ForYouError(.invalidArgument, "`not_after` must be later than `not_before`") }
        guard !permittedUses.isEmpty, permittedUses.allSatisfy(Self.uses.contains) else {
            throw ForYouError(.invalidArgument, "`permitted_uses` must be a non-empty subset of \(Self.uses.joined(separator: ", "))")
        }
    }
}

/// What a model was trained on: counts, time range and a digest of the data, never the data.
public struct Provenance: Sendable, Equatable, Codable {
    /// `local` for a model trained by this deployment; `licensor` for one trained elsewhere and packaged.
    public var origin: String
    /// The jurisdiction whose data trained it.
    public var jurisdiction: String
    /// When it was trained (RFC 3339).
    public var trainedAt: String
    public var users: Int
    public var events: Int
    public var items: Int
    /// The time range of the training events (RFC 3339); absent when unknown.
    public var firstEventAt: String?
    public var lastEventAt: String?
    /// SHA-256 (hex) of the training events (user, item, time) in log order.
    public var datasetSHA256: String?
    /// `true` when the model was trained on local data alone, with no licensed hyperparameters or weights.
    public var fromScratch: Bool
    /// The package whose hyperparameters were reused, when it was not trained from scratch.
    public var hyperparametersFrom: String?

    public init(
        origin: String, jurisdiction: String, trainedAt: String, users: Int, events: Int, items: Int, firstEventAt: String? = nil,
        lastEventAt: String? = nil, datasetSHA256: String? = nil, fromScratch: Bool, hyperparametersFrom: String? = nil
    ) {
        self.origin = origin
        self.jurisdiction = jurisdiction
        self.trainedAt = trainedAt
        self.users = users
        self.events = events
        self.items = items
        self.firstEventAt = firstEventAt
        self.lastEventAt = lastEventAt
        self.datasetSHA256 = datasetSHA256
        self.fromScratch = fromScratch
        self.hyperparametersFrom = hyperparametersFrom
    }

    enum CodingKeys: String, CodingKey {
        case origin, jurisdiction, users, events, items
        case trainedAt = "trained_at"
        case firstEventAt = "first_event_at"
        case lastEventAt = "last_event_at"
        case datasetSHA256 = "dataset_sha256"
        case fromScratch = "from_scratch"
        case hyperparametersFrom = "hyperparameters_from"
    }
}

/// The hyperparameters of the default model, as a package carries them.
public struct BlendHyperparameters: Sendable, Equatable, Codable {
    public var transitionWindow: Int
    public var transitionStepDecay: Float
    public var transitionHistoryLength: Int
    public var transitionHistoryDecay: Float
    public var alsFactors: Int
    public var alsRegularization: Float
    public var alsConfidence: Float
    public var alsIterations: Int
    public var alsConjugateGradientSteps: Int
    public var alsFoldInSteps: Int
    public var alsSeed: UInt64
    public var transitionsWeight: Float

    init(_ model: BlendModel) {
        let t = model.transitions.configuration
        let a = model.als.configuration
        transitionWindow = t.window
        transitionStepDecay = t.stepDecay
        transitionHistoryLength = t.historyLength
        transitionHistoryDecay = t.historyDecay
        alsFactors = a.factors
        alsRegularization = a.regularization
        alsConfidence = a.confidence
        alsIterations = a.iterations
        alsConjugateGradientSteps = a.conjugateGradientSteps
        alsFoldInSteps = a.foldInSteps
        alsSeed = a.seed
        transitionsWeight = model.transitionsWeight
    }

    /// An unfitted model with these hyperparameters.
    func makeModel() -> BlendModel {
        var als = ALSModel.Configuration()
        als.factors = alsFactors
        als.regularization = alsRegularization
        als.confidence = alsConfidence
        als.iterations = alsIterations
        als.conjugateGradientSteps = alsConjugateGradientSteps
        als.foldInSteps = alsFoldInSteps
        als.seed = alsSeed
        let transitions = ItemTransitionModel.Configuration(
            window: transitionWindow, stepDecay: transitionStepDecay, historyLength: transitionHistoryLength, historyDecay: transitionHistoryDecay)
        return BlendModel(transitions: transitions, als: als, transitionsWeight: transitionsWeight)
    }

    enum CodingKeys: String, CodingKey {
        case transitionWindow = "transition_window"
        case transitionStepDecay = "transition_step_decay"
        case transitionHistoryLength = "transition_history_length"
        case transitionHistoryDecay = "transition_history_decay"
        case alsFactors = "als_factors"
        case alsRegularization = "als_regularization"
        case alsConfidence = "als_confidence"
        case alsIterations = "als_iterations"
        case alsConjugateGradientSteps = "als_conjugate_gradient_steps"
        case alsFoldInSteps = "als_fold_in_steps"
        case alsSeed = "als_seed"
        case transitionsWeight = "transitions_weight"
    }
}

/// The signed description of a package's contents.
public struct PackageManifest: Sendable, Equatable, Codable {
    /// The engine and model code that produced the weights and can run them.
    public var codeVersion: String
    /// The model's version (`blend-…`), also its `model_version` in feeds.
    public var modelVersion: String
    public var model: String
    public var hyperparameters: BlendHyperparameters
    /// SHA-256 (hex) of the weights section.
    public var weightsSHA256: String
    public var provenance: Provenance
    /// Absent for a locally trained model.
    public var license: License?

    enum CodingKeys: String, CodingKey {
        case model, hyperparameters, provenance, license
        case codeVersion = "code_version"
        case modelVersion = "model_version"
        case weightsSHA256 = "weights_sha256"
    }
}

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

/// Decides whether a package may run here: intact, signed by a trusted licensor, licensed for this
/// jurisdiction, this moment and this use.
public struct PackageVerifier: Sendable {
    /// Raw Ed25519 public keys (32 bytes each) of the licensors this deployment trusts.
    public var trustedKeys: [[UInt8]]
    public var jurisdiction: Jurisdiction

    public init(trustedKeys: [[UInt8]], jurisdiction: Jurisdiction) {
        self.trustedKeys = trustedKeys
        self.jurisdiction = jurisdiction
    }

    /// Verifies a package for `use` at `now` and returns its model.
    /// - Throws: the refusal's own code: ``ForYouError/Code/packageMalformed``, ``ForYouError/Code/packageTampered``,
    ///   ``ForYouError/Code/signatureInvalid``, ``ForYouError/Code/licenseNotYetValid``, ``ForYouError/Code/licenseExpired``,
    ///   ``ForYouError/Code/licenseWrongJurisdiction`` or ``ForYouError/Code/licenseUseNotPermitted``.
    public func verify(_ package: AlgorithmPackage, use: String, now: Timestamp) throws(ForYouError) -> LearnedModel {
        let model = try package.model()
        guard let signature = package.signature else {
            throw ForYouError(.signatureInvalid, "the package is not signed; only packages signed by a trusted licensor are installed")
        }
        guard trustedKeys.contains(signature.publicKey) else {
            throw ForYouError(.signatureInvalid, "the package is signed by a key this deployment does not trust (configure the licensor's public key)")
        }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: signature.publicKey),
            key.isValidSignature(signature.signature, for: package.signedBytes)
        else {
            throw ForYouError(.signatureInvalid, "the signature does not verify: the package was changed after signing, or the signature belongs to another package")
        }
        guard let license = package.manifest.license else {
            throw ForYouError(.signatureInvalid, "the package carries no license")
        }
        guard let start = Timestamp(rfc3339: license.notBefore), let end = Timestamp(rfc3339: license.notAfter) else {
            throw ForYouError(.packageMalformed, "the license's dates are not RFC 3339")
        }
        guard now >= start else { throw ForYouError(.licenseNotYetValid, "the license is valid from \(license.notBefore); it is \(now.rfc3339)") }
        guard now <= end else { throw ForYouError(.licenseExpired, "the license expired at \(license.notAfter); it is \(now.rfc3339)") }
        guard license.jurisdictions.contains(jurisdiction.rawValue) else {
            throw ForYouError(
                .licenseWrongJurisdiction,
                "the license covers \(license.jurisdictions.joined(separator: ", ")), not this deployment's jurisdiction \(jurisdiction)")
        }
        guard license.permittedUses.contains(use) else {
            throw ForYouError(.licenseUseNotPermitted, "the license permits \(license.permittedUses.joined(separator: ", ")), not \(use)")
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
