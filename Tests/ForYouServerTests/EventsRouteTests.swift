// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import ForYouTesting
import Hummingbird
import HummingbirdTesting
import Testing

struct EventsRouteTests {
    @Test func validEventsAreAcceptedAndInvalidOnesRejectedWithCodesNamingTheField() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(
                .post, "/v1/events",
                json: """
                    {"events":[
                      {"id":"e1","user":"u1","item":"v1","type":"view","watch_ms":9000,"at":"2026-11-26T07:00:00Z"},
                      {"id":"e2","user":"u1","item":"v2","type":"view","watch_ms":"long"},
                      {"id":"e3","user":"u1","item":"v3","type":"wave"},
                      {"id":"e4","user":"u1","item":"nope","type":"like"},
                      {"id":"e5","user":"u1","item":"v5","type":"like","at":"2026-11-28T00:00:00Z"},
                      {"id":"","user":"u1","item":"v5","type":"like"},
                      {"id":"e7","user":"u1","item":"v5","type":"view"},
                      {"id":"e8","user":"u1","item":"v5","type":"view","watch_ms":-3},
                      {"id":"e9","user":"u1","item":"v5","type":"like","at":"noon"},
                      42,
                      {"id":"e11","user":"u1","creator":"c3","type":"follow"}
                    ]}
                    """)
            #expect(response.status == .ok)
            let body = try response.decoded(EventBatchResponse.self)
            #expect(body.accepted == 2)
            #expect(body.duplicates == 0)
            #expect(body.rejected.map(\.index) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
            #expect(body.rejected.map(\.code) == [
                "invalid_value", "unknown_type", "unknown_item", "timestamp_in_future", "invalid_id", "missing_field", "invalid_value",
                "invalid_timestamp", "invalid_value",
            ])
            let fields = ["watch_ms", "type", "item", "at", "id", "watch_ms", "watch_ms", "at", "event"]
            for (rejection, field) in zip(body.rejected, fields) {
                #expect(rejection.message.contains("`\(field)`"), "\(rejection.message) does not name \(field)")
            }
            #expect(body.rejected[0].id == "e2")
            #expect(body.rejected[8].id == nil)
        }
        #expect(try await fixture.store.count() == 2)
    }

    @Test func aResentBatchIsCountedAsDuplicatesAndStoredOnce() async throws {
        let fixture = try await APIFixture()
        let batch = #"{"events":[{"id":"a","user":"u","item":"v1","type":"like"},{"id":"b","user":"u","item":"v2","type":"share"}]}"#
        try await fixture.app.test(.router) { client in
            let first = try await client.send(.post, "/v1/events", json: batch).decoded(EventBatchResponse.self)
            let second = try await client.send(.post, "/v1/events", json: batch).decoded(EventBatchResponse.self)
            #expect((first.accepted, first.duplicates) == (2, 0))
            #expect((second.accepted, second.duplicates) == (0, 2))
        }
        #expect(try await fixture.store.count() == 2)
    }

    @Test func batchesOfMoreThanAThousandEventsAreRefused() async throws {
        let fixture = try await APIFixture()
        let events = (0...1000).map { #"{"id":"e\#($0)","user":"u","item":"v1","type":"like"}"# }.joined(separator: ",")
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.post, "/v1/events", json: #"{"events":[\#(events)]}"#)
            #expect(response.status == .badRequest)
            #expect(try response.error().code == "invalid_argument")
            #expect(try response.error().message.contains("at most 1000"))
        }
        #expect(try await fixture.store.count() == 0)
    }

    @Test func anUnknownFieldIsRejectedSoATypoNeverChangesWhatIsStored() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let body = try await client.send(
                .post, "/v1/events", json: #"{"events":[{"id":"a","user":"u","item":"v1","type":"like","timestamp":"2026-11-20T00:00:00Z"}]}"#
            ).decoded(EventBatchResponse.self)
            #expect(body.accepted == 0)
            #expect(body.rejected.first?.code == "unknown_field")
            #expect(body.rejected.first?.message.contains("`timestamp`") == true)
        }
    }

    @Test func aHugeBatchOfEmptyObjectsIsRefusedBeforeItIsDecoded() async throws {
        let fixture = try await APIFixture()
        let empties = Array(repeating: "{}", count: 1_000_000).joined(separator: ",")
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.post, "/v1/events", json: #"{"events":[\#(empties)]}"#)
            #expect(response.status == .badRequest)
            #expect(try response.error().message == "`events` must hold at most 1000 records, got 1000000")
        }
    }

    @Test(arguments: [
        ("{\"events\": [", "invalid_json", "not valid JSON"),
        ("{}", "invalid_json", "`events` is required"),
        ("{\"events\": {}}", "invalid_json", "`events` must be an array"),
        ("[]", "invalid_json", "`body` must be"),
    ])
    func malformedBodiesAreRefusedWithInvalidJSON(body: String, code: String, message: String) async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.post, "/v1/events", json: body)
            #expect(response.status == .badRequest)
            let error = try response.error()
            #expect(error.code == code)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func bodiesOverFourMebibytesAreRefusedWith413() async throws {
        let fixture = try await APIFixture()
        let padding = String(repeating: " ", count: ForYouAPI.maximumBodyBytes)
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.post, "/v1/events", json: #"{"events":[]}"# + padding)
            #expect(response.status == .contentTooLarge)
            #expect(try response.error().code == "payload_too_large")
        }
    }

    @Test func aStorageFailureIsA503AndNothingIsAcknowledged() async throws {
        let fixture = try await APIFixture()
        fixture.store.set(.unavailable)
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u","item":"v1","type":"like"}]}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(try response.error().code == "unavailable")
            fixture.store.set(.healthy)
            let retry = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u","item":"v1","type":"like"}]}"#)
            #expect(try retry.decoded(EventBatchResponse.self).accepted == 1)
        }
    }

    @Test func anUnexpectedFailureIsA500WithoutDetails() async throws {
        let fixture = try await APIFixture()
        fixture.store.set(.unexpected)
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u","item":"v1","type":"like"}]}"#)
            #expect(response.status == .internalServerError)
            #expect(try response.error().code == "internal")
            #expect(try response.error().message == "internal error")
        }
    }
}
