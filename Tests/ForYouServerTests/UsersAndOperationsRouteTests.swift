// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import ForYouTesting
import Hummingbird
import HummingbirdTesting
import Testing

struct UsersAndOperationsRouteTests {
    @Test func deletingAUserErasesTheirEventsAndServedHistory() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            _ = try await client.send(
                .post, "/v1/events",
                json: #"{"events":[{"id":"a","user":"gone","item":"v1","type":"like"},{"id":"b","user":"stays","item":"v1","type":"like"}]}"#)
            _ = try await client.send(.get, "/v1/users/gone/feed")
            let response = try await client.send(.delete, "/v1/users/gone")
            #expect(response.status == .ok)
            let body = try response.decoded(ErasureResponse.self)
            #expect(body.erased && body.eventsDeleted == 1 && body.user == "gone")
            // No model was trained: the rules serve, and the answer says so.
            #expect(body.model.outcome == "no_model" && body.model.modelVersion == nil && body.model.refittedItems == 0)
        }
        #expect(try await fixture.store.events(of: UserID(trusted: "gone")).isEmpty)
        #expect(try await fixture.store.served(since: Timestamp(milliseconds: 0)).isEmpty)
        #expect(try await fixture.store.count() == 1)
    }

    @Test func erasingAnUnknownUserSucceedsAndABadIDIsRefused() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let unknown = try await client.send(.delete, "/v1/users/never-seen")
            #expect(unknown.status == .ok)
            let answer = try unknown.decoded(ErasureResponse.self)
            #expect(answer.eventsDeleted == 0 && answer.model.outcome == "no_model")
            let bad = try await client.send(.delete, "/v1/users/\(String(repeating: "x", count: 257))")
            #expect(bad.status == .badRequest)
            #expect(try bad.error().code == "invalid_id")
        }
    }

    @Test func trainingWithNothingToLearnFromIsAConflictAndChangesNothing() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.post, "/v1/models/train")
            #expect(response.status == .conflict)
            #expect(try response.error().code == "conflict")
            #expect(try response.error().message.contains("no positive events"))
            #expect(try await client.send(.get, "/v1/models/current").status == .notFound)
        }
    }

    @Test func trainingOverHTTPSwapsTheModelThatFeedsReport() async throws {
        let fixture = try await APIFixture()
        _ = try await fixture.engine.ingest((0..<60).map {
            EventInput(id: "e\($0)", user: "u\($0 % 12)", item: "v\(($0 * 7) % 20)", type: "like")
        })
        try await fixture.app.test(.router) { client in
            let none = try await client.send(.get, "/v1/models/current")
            #expect(none.status == .notFound)
            #expect(try none.error().message.contains("POST /v1/models/train"))
            let trained = try await client.send(.post, "/v1/models/train")
            #expect(trained.status == .ok)
            let model = try trained.decoded(ModelResponse.self)
            #expect(model.modelVersion.hasPrefix("blend-") && model.users == 12 && model.items == 20)
            #expect(try await client.send(.get, "/v1/models/current").decoded(ModelResponse.self).modelVersion == model.modelVersion)
            let feed = try await client.send(.get, "/v1/users/u1/feed?count=5").decoded(FeedResponse.self)
            #expect(feed.modelVersion == model.modelVersion)
            #expect(try await client.send(.get, "/healthz").decoded(HealthResponse.self).modelVersion == model.modelVersion)
        }
    }

    @Test func healthzAnswersOK() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let health = try await client.send(.get, "/healthz").decoded(HealthResponse.self)
            #expect(health.status == "ok" && health.items == 20)
        }
    }

    @Test func metricsCountRequestsPerRouteAndEngineEvents() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            _ = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u","item":"v1","type":"like"},{"id":"b","type":"x"}]}"#)
            _ = try await client.send(.get, "/v1/users/u/feed")
            _ = try await client.send(.get, "/v1/users/u/feed?count=0")
            let response = try await client.send(.get, "/metrics")
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            #expect(text.contains(#"foryou_http_requests_total{method="GET",route="/v1/users/{user}/feed",status="200"} 1"#))
            #expect(text.contains(#"foryou_http_requests_total{method="GET",route="/v1/users/{user}/feed",status="400"} 1"#))
            #expect(text.contains(#"foryou_http_request_duration_seconds_count{method="POST",route="/v1/events"} 1"#))
            #expect(text.contains(#"foryou_http_request_duration_seconds_bucket{method="POST",route="/v1/events",le="+Inf"} 1"#))
            #expect(text.contains("foryou_events_ingested_total 1\n"))
            #expect(text.contains("foryou_events_rejected_total 1\n"))
            #expect(text.contains("foryou_feed_requests_total 1\n"))
        }
    }

    @Test func unknownRoutesAndMethodsAnswerInTheErrorShape() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let missing = try await client.send(.get, "/v1/nothing")
            #expect(missing.status == .notFound)
            #expect(try missing.error().code == "not_found")
            let wrongMethod = try await client.send(.patch, "/v1/items")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(try wrongMethod.error().code == "method_not_allowed")
            #expect(try wrongMethod.error().message.contains("use PUT"))
            let deleteFeed = try await client.send(.delete, "/v1/users/u/feed")
            #expect(deleteFeed.status == .methodNotAllowed)
        }
    }

    @Test func theLiveServerAnswersOverARealSocket() async throws {
        let fixture = try await APIFixture()
        let app = Application(router: ForYouAPI.makeRouter(engine: fixture.engine), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let response = try await client.send(.get, "/v1/users/live/feed?count=3")
            #expect(response.status == .ok)
            #expect(try response.decoded(FeedResponse.self).items.count == 3)
        }
    }
}
