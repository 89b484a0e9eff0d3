// SPDX-License-Identifier: Apache-2.0

import Crypto
import ForYou
import ForYouTesting
import Testing

struct AlgorithmPackageTests {
    @Test func aSignedLicensedPackageInstallsAndNamesItselfInFeeds() async throws {
        let fixture = try await PackageFixture()
        let local = try #require(fixture.engine.currentModel)
        #expect(local.provenance?.origin == "local" && local.provenance?.fromScratch == true && local.license == nil)
        let bytes = try await fixture.package(fixture.license())
        let info = try await fixture.engine.installPackage(bytes)
        let packageID = try #require(info.packageID)
        #expect(info.version == "\(local.version)+pkg.\(packageID)")
        #expect(info.license?.licensee == "EU Operator" && info.provenance?.origin == "licensor")
        #expect(try await fixture.engine.feed(for: "u1", count: 5).modelVersion == info.version)
        // The package holds no user data: no user id of the world appears in its bytes.
        for user in ["u1", "b0", "b7"] { #expect(!bytes.containsSubsequence(Array("\"\(user)\"".utf8)), "package holds \(user)") }
    }

    /// Every refusal has its own code, changes nothing (the last good model keeps serving) and is audited.
    @Test func eachRefusalKeepsTheLastGoodModelServing() async throws {
        let fixture = try await PackageFixture()
        let local = try #require(fixture.engine.currentModel)
        let good = try await fixture.package(fixture.license())
        let other = try await fixture.package(fixture.license(jurisdictions: ["eu", "us"]))

        var tampered = good
        let weightsOffset = tampered.count - 96 - 100  // inside the weights, before the signature block
        tampered[weightsOffset] ^= 0x01
        var splice = Array(good.dropLast(96))  // package A with the signature block of package B
        splice += other.suffix(96)
        let cases: [(String, [UInt8], ForYouError.Code)] = [
            ("signed by an untrusted key", try await fixture.package(fixture.license(), signedBy: Curve25519.Signing.PrivateKey()), .signatureInvalid),
            ("the signature of another package", splice, .signatureInvalid),
            ("expired", try await fixture.package(fixture.license(from: -10 * Timestamp.day, to: -Timestamp.day)), .licenseExpired),
            ("not yet valid", try await fixture.package(fixture.license(from: Timestamp.day, to: 10 * Timestamp.day)), .licenseNotYetValid),
            ("another jurisdiction", try await fixture.package(fixture.license(jurisdictions: ["us"])), .licenseWrongJurisdiction),
            ("tampered weights", tampered, .signatureInvalid),
            ("retrain only", try await fixture.package(fixture.license(uses: ["retrain"])), .licenseUseNotPermitted),
            ("unsigned", Array(good.dropLast(100)) + [0, 0, 0, 0], .signatureInvalid),
            ("not a package", Array("hello".utf8), .packageMalformed),
            ("truncated", Array(good.prefix(good.count / 2)), .packageMalformed),
        ]
        for (name, bytes, code) in cases {
            let error = await #expect(throws: ForYouError.self, "\(name)") { try await fixture.engine.installPackage(bytes) }
            #expect(error?.code == code, "\(name): \(String(describing: error))")
            #expect(fixture.engine.currentModel == local, "\(name) changed the serving model")
        }
        #expect(fixture.engine.statistics.packagesRefused == cases.count)
        let (lines, verification) = try await fixture.engine.auditLog()
        #expect(verification.isIntact)
        let refusals = lines.compactMap { AuditChain.parse($0)?.entry }.filter { $0.kind == "model.refused" }
        #expect(refusals.count == cases.count)
        #expect(refusals.map { $0.details["code"] } == cases.map { $0.2.rawValue })
    }

    /// A license checked at install is checked again at every start: once expired, the package no longer
    /// serves and the last local model takes over.
    @Test func aPackageWhoseLicenseExpiredIsRefusedAtTheNextStart() async throws {
        let fixture = try await PackageFixture()
        let local = try #require(fixture.engine.currentModel)
        _ = try await fixture.engine.installPackage(try await fixture.package(fixture.license(to: Timestamp.day)))
        #expect(fixture.engine.currentModel?.packageID != nil)
        fixture.clock.advance(byMilliseconds: 2 * Timestamp.day)
        let reopened = try await Recommender.open(store: fixture.world.store, configuration: fixture.engine.configuration, clock: fixture.clock)
        #expect(reopened.currentModel?.version == local.version)
        #expect(reopened.modelLoadProblem?.contains("expired") == true)
        let stored = try await reopened.storedModels()
        #expect(stored.first?.state == "refused" && stored.first?.refusal?.hasPrefix("license_expired") == true)
        #expect(stored.first?.license?.licensee == "EU Operator")
        #expect(stored.dropFirst().first?.state == "serving" && stored.dropFirst().first?.version == local.version)
    }

    /// A license that ends while the package serves stops it at the next feed, not at the next restart.
    @Test func aPackageStopsServingWhenItsLicenseEndsWhileRunning() async throws {
        let fixture = try await PackageFixture()
        let local = try #require(fixture.engine.currentModel)
        let installed = try await fixture.engine.installPackage(try await fixture.package(fixture.license(to: Timestamp.hour)))
        #expect(try await fixture.engine.feed(for: "u1", count: 3).modelVersion == installed.version)
        fixture.clock.advance(byMilliseconds: 2 * Timestamp.hour)
        #expect(try await fixture.engine.feed(for: "u1", count: 3).modelVersion == local.version)
        let (lines, _) = try await fixture.engine.auditLog()
        let expired = lines.compactMap { AuditChain.parse($0)?.entry }.filter { $0.kind == "model.expired" }
        #expect(expired.count == 1 && expired.first?.details["replaced_by"] == local.version)
        // Retraining no longer borrows the expired package's hyperparameters.
        #expect(try await fixture.engine.train().provenance?.fromScratch == true)
    }

    /// A locally trained model file changed on disk is refused when the engine opens (its weights no
    /// longer match the digest in its manifest).
    @Test func aTamperedLocalModelFileIsRefusedAtStart() async throws {
        let fixture = try await PackageFixture()
        var bytes = try #require(try await fixture.world.store.savedModels().first)
        bytes[bytes.count - 50] ^= 0x01
        try await fixture.world.store.saveModel(bytes, version: "tampered")
        let reopened = try await Recommender.open(store: fixture.world.store, configuration: fixture.engine.configuration, clock: fixture.clock)
        #expect(reopened.modelLoadProblem?.contains("package_tampered") == true)
    }

    /// Independent operation: the licensee retrains on local data alone, or reuses the licensed
    /// hyperparameters when the license permits it; provenance says which.
    @Test func retrainingRecordsWhetherItUsedTheLicensedHyperparameters() async throws {
        let fixture = try await PackageFixture()
        let installed = try await fixture.engine.installPackage(try await fixture.package(fixture.license()))
        let reused = try await fixture.engine.train()
        #expect(reused.provenance?.fromScratch == false)
        #expect(reused.provenance?.hyperparametersFrom == installed.packageID)
        #expect(reused.hyperparameters == installed.hyperparameters)
        #expect(reused.packageID == nil && reused.provenance?.origin == "local")

        _ = try await fixture.engine.installPackage(try await fixture.package(fixture.license()))
        let scratch = try await fixture.engine.train(fromScratch: true)
        #expect(scratch.provenance?.fromScratch == true && scratch.provenance?.hyperparametersFrom == nil)
        #expect(scratch.provenance?.jurisdiction == "eu")
        #expect(scratch.provenance?.datasetSHA256?.count == 64)
    }

    /// Erasure retires locally trained models, which learned from the erased user; a licensed package
    /// was trained elsewhere and keeps serving, also after a restart.
    @Test func erasureKeepsALicensedPackageServing() async throws {
        let fixture = try await PackageFixture()
        let installed = try await fixture.engine.installPackage(try await fixture.package(fixture.license()))
        #expect(try await fixture.engine.erase(user: "u1") == 2)
        #expect(fixture.engine.currentModel == installed)
        let reopened = try await Recommender.open(store: fixture.world.store, configuration: fixture.engine.configuration, clock: fixture.clock)
        #expect(reopened.currentModel == installed)
        #expect(try await fixture.world.store.savedModels().count == 1)
    }

    @Test func verificationNeedsATrustedKey() async throws {
        let fixture = try await PackageFixture()
        let package = try AlgorithmPackage(encoded: try await fixture.package(fixture.license()))
        let now = fixture.clock.now()
        let untrusting = PackageVerifier(trustedKeys: [], jurisdiction: try Jurisdiction(validating: "eu"))
        #expect(throws: ForYouError.self) { try untrusting.verify(package, use: "serve", now: now) }
        let trusting = PackageVerifier(trustedKeys: [Array(fixture.licensorKey.publicKey.rawRepresentation)], jurisdiction: try Jurisdiction(validating: "eu"))
        #expect(try trusting.verify(package, use: "serve", now: now).version == fixture.engine.currentModel?.version)
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] && Array(self[start..<(start + needle.count)]) == needle { return true }
        return false
    }
}
