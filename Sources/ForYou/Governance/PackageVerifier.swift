// SPDX-License-Identifier: Apache-2.0

import Crypto

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
    /// The signature is checked first (cheap, and nothing of an untrusted file is decoded), then the
    /// weights against the signed digest, then that the hyperparameters the manifest lends for
    /// retraining are the ones the weights were trained with, then the license.
    public func verify(_ package: AlgorithmPackage, use: String, now: Timestamp) throws(ForYouError) -> LearnedModel {
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
        let model = try package.model()
        guard package.manifest.hyperparameters == BlendHyperparameters(model.model) else {
            throw ForYouError(.packageMalformed, "the manifest's hyperparameters are not the ones its weights were trained with")
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

