// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouPostgres
import ForYouTesting
import Testing

/// Engines on one database that hear no notification at all (a dropped listening connection): one poll
/// round (events, then generations) brings each up to date.
@Suite(.serialized)
struct FollowingTests {
    @Test func aFollowerThatHeardNoNotificationCatchesUpByPolling() async throws {
        let url = try await TestDatabase.create()
        let storeA = try await PostgresStore.connect(url: url, connectTimeout: TestDatabase.timeout)
        let storeB = try await PostgresStore.connect(url: url, connectTimeout: TestDatabase.timeout)
        defer {
            storeA.close()
            storeB.close()
        }
        let a = try await Recommender.open(store: storeA)
        let b = try await Recommender.open(store: storeB)
        func pollB() async throws {
            try await b.apply(.events, from: storeB)
            try await b.apply(.erasure, from: storeB)  // checks every generation
        }

        _ = try await a.upsertItems((0..<10).map { ItemInput(id: "v\($0)", creator: "c\($0 % 2)", tags: ["t\($0 % 3)"], durationMilliseconds: 10_000) })
        _ = try await a.ingest((0..<6).map { EventInput(id: "e\($0)", user: "u1", item: "v\($0)", type: "like") })
        try await pollB()
        #expect(try b.profile(of: "u1").recentPositives == 6)
        #expect(b.sizes.items == 10)

        let created = try await a.createAPIKey(name: "ops", role: .admin)
        try await pollB()
        #expect(b.authenticate(created.key) != nil, "B does not know the key made on A")
        try await a.revokeAPIKey(id: created.record.id)
        try await pollB()
        #expect(b.authenticate(created.key) == nil, "B still accepts the key revoked on A")

        var controls = UserControls()
        controls.personalized = false
        _ = try await a.setControls(of: "u1", to: controls)
        try await pollB()
        #expect(try b.controls(of: "u1").personalized == false)

        _ = try await a.train()
        try await pollB()
        #expect(b.currentModel?.version == a.currentModel?.version && b.currentModel != nil)

        _ = try await a.erase(user: "u1")
        try await pollB()
        #expect(try b.profile(of: "u1").recentPositives == 0, "B kept the erased user's profile")
        #expect(b.currentModel == nil, "B still serves the model trained on the erased user's events")
    }
}
