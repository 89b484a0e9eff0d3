// SPDX-License-Identifier: Apache-2.0

import Crypto
import ForYou
import ForYouTesting

/// A licensor with a key, and a deployment (the fixture world) that trusts it, with a locally trained model.
struct PackageFixture {
    let licensorKey = Curve25519.Signing.PrivateKey()
    let world: FeedFixture
    var engine: Recommender { world.engine }
    var clock: ManualClock { world.clock }

    init(jurisdiction: String = "eu") async throws {
        var configuration = Recommender.Configuration()
        configuration.jurisdiction = try Jurisdiction(validating: jurisdiction)
        configuration.licensorKeys = [Array(licensorKey.publicKey.rawRepresentation)]
        world = try await FeedFixture(configuration: configuration)
        try await world.like("u1", "c0-v1", id: "l1")
        try await world.like("u1", "c0-v2", id: "l2")
        try await engine.train()
    }

    /// A license for `eu` valid around the fixture clock's now.
    func license(
        jurisdictions: [String] = ["eu"], from: Int64 = -Timestamp.day, to: Int64 = 30 * Timestamp.day, uses: [String] = ["serve", "retrain"]
    ) -> License {
        License(
            licensor: "Licensor Inc.", licensee: "EU Operator", jurisdictions: jurisdictions,
            notBefore: clock.now().advanced(byMilliseconds: from).rfc3339, notAfter: clock.now().advanced(byMilliseconds: to).rfc3339,
            permittedUses: uses)
    }

    /// A package of the serving model under `license`, signed by the licensor (or by `key`).
    func package(_ license: License, signedBy key: Curve25519.Signing.PrivateKey? = nil) async throws -> [UInt8] {
        try await engine.makePackage(license: license, signingKey: key ?? licensorKey).encoded()
    }
}
