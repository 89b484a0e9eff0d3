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

    /// An event's region travels through the fast path into the item's statistics, which the route
    /// answers at once; an unknown item is 404 and a bad `hours` 400, naming the parameter.
    @Test func itemStatisticsCountEventsPerRegionAndHour() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let events = try await client.send(
                .post, "/v1/events",
                json: #"{"events":[{"id":"e1","user":"u","item":"v1","type":"view","watch_ms":5000,"region":"FR-IDF"},{"id":"e2","user":"u","item":"v1","type":"like"}]}"#)
            #expect(try events.decoded(EventBatchResponse.self).accepted == 2)
            let response = try await client.send(.get, "/v1/items/v1/statistics?hours=2")
            #expect(response.status == .ok)
            let report = try response.decoded(ItemStatisticsResponse.self)
            #expect(report.item == "v1" && report.hours == 2)
            #expect((report.total.views, report.total.likes, report.total.meanCompletion) == (1, 1, 0.5))
            #expect(report.buckets.map(\.region) == [nil, "FR-IDF"])
            #expect(report.buckets.allSatisfy { $0.hour == "2026-11-26T08:00:00.000Z" })
            // A bucket without a region, or without views, leaves the key out rather than sending null.
            #expect(!response.text.contains("null"))
            let unknown = try await client.send(.get, "/v1/items/nope/statistics")
            #expect(unknown.status == .notFound)
            let badHours = try await client.send(.get, "/v1/items/v1/statistics?hours=two")
            #expect(badHours.status == .badRequest)
            #expect(try badHours.error().message.contains("`hours`"))
        }
    }
}
