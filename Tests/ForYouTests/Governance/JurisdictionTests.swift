// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting
import Testing

struct JurisdictionTests {
    func euEngine(store: MemoryStore = MemoryStore()) async throws -> Recommender {
        var configuration = Recommender.Configuration()
        configuration.jurisdiction = try Jurisdiction(validating: "eu")
        return try await Recommender.open(store: store, configuration: configuration, clock: ManualClock())
    }

    @Test func recordsOfAnotherJurisdictionAreRefusedCountedAndNeverStored() async throws {
        let store = MemoryStore()
        let engine = try await euEngine(store: store)
        _ = try await engine.upsertItems([ItemInput(id: "v1", creator: "c1", durationMilliseconds: 1000, jurisdiction: "eu")])
        let error = await #expect(throws: ForYouError.self) {
            try await engine.upsertItems([
                ItemInput(id: "v2", creator: "c1", durationMilliseconds: 1000),
                ItemInput(id: "v3", creator: "c1", durationMilliseconds: 1000, jurisdiction: "us"),
            ])
        }
        #expect(error?.code == .wrongJurisdiction)
        #expect(error?.message.hasPrefix("items[1]: `jurisdiction` is us") == true)
        #expect(try await store.allItems().map(\.id.rawValue) == ["v1"])

        let result = try await engine.ingest([
            EventInput(id: "e1", user: "u1", item: "v1", type: "like", jurisdiction: "eu"),
            EventInput(id: "e2", user: "u2", item: "v1", type: "like", jurisdiction: "us"),
            EventInput(id: "e3", user: "u3", item: "v1", type: "like"),
            EventInput(id: "e4", user: "u4", item: "v1", type: "like", jurisdiction: "EU!"),
        ])
        #expect(result.accepted == 2)
        #expect(result.rejected.map(\.code) == [.wrongJurisdiction, .invalidValue])
        #expect(result.rejected[0].message.contains("serves eu only"))
        #expect(try await store.events(of: UserID(trusted: "u2")).isEmpty)
        #expect(engine.statistics.refusedWrongJurisdiction == 2)
        #expect(engine.sizes.users == 2)
    }

    @Test func aStoreStaysBoundToTheJurisdictionItWasCreatedFor() async throws {
        let store = MemoryStore()
        _ = try await euEngine(store: store)
        var us = Recommender.Configuration()
        us.jurisdiction = try Jurisdiction(validating: "us")
        let error = await #expect(throws: ForYouError.self) { try await Recommender.open(store: store, configuration: us) }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("belongs to jurisdiction eu") == true)
        _ = try await euEngine(store: store)
    }

    @Test func jurisdictionNamesAreValidated() {
        #expect(throws: ForYouError.self) { try Jurisdiction(validating: "E") }
        #expect(throws: ForYouError.self) { try Jurisdiction(validating: "Europe") }
        #expect(throws: ForYouError.self) { try Jurisdiction(validating: "") }
        #expect((try? Jurisdiction(validating: "us-ca"))?.rawValue == "us-ca")
    }
}
