// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import ForYouTesting
import Hummingbird
import HummingbirdTesting
import Testing

struct ItemsRouteTests {
    @Test func itemsAreUpserted() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(
                .put, "/v1/items",
                json: #"{"items":[{"id":"n1","creator":"me","tags":["cats","fun"],"duration_ms":15000,"language":"en","published_at":"2026-11-26T07:00:00Z"},{"id":"v1","creator":"c9","duration_ms":5000}]}"#)
            #expect(response.status == .ok)
            #expect(try response.decoded(ItemBatchResponse.self).upserted == 2)
        }
        let items = try await fixture.store.allItems()
        #expect(items.count == 21)
        #expect(items.first { $0.id.rawValue == "v1" }?.creator.rawValue == "c9")
    }

    @Test(arguments: [
        (#"{"items":[{"id":"x","creator":"me","duration_ms":0}]}"#, "invalid_value", "items[0]: `duration_ms`"),
        (#"{"items":[{"id":"x","creator":"me","duration_ms":"10s"}]}"#, "invalid_value", "items[0]: `duration_ms`"),
        (#"{"items":[{"id":"x","duration_ms":10}]}"#, "missing_field", "items[0]: `creator`"),
        (#"{"items":[{"id":"x","creator":"me","duration_ms":10},{"id":"y","creator":"me","duration_ms":10,"published_at":"yesterday"}]}"#,
         "invalid_timestamp", "items[1]: `published_at`"),
        (#"{"items":[{"id":"x","creator":"me","duration_ms":10,"tags":"cats"}]}"#, "invalid_value", "items[0]: `tags`"),
        (#"{"things":[]}"#, "invalid_json", "`items` is required"),
    ])
    func anInvalidItemRefusesTheBatchNamingIndexAndField(body: String, code: String, message: String) async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.put, "/v1/items", json: body)
            #expect(response.status == .badRequest)
            let error = try response.error()
            #expect(error.code == code)
            #expect(error.message.hasPrefix(message) || error.message.contains(message), "\(error.message)")
        }
        #expect(try await fixture.store.allItems().count == 20)
    }
}
