// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import ForYouTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

struct GovernanceRouteTests {
    /// One key per role on the fixture.
    func keys(_ fixture: APIFixture) async throws -> [APIRole: String] {
        var keys: [APIRole: String] = [:]
        for role in APIRole.allCases { keys[role] = try await fixture.engine.createAPIKey(name: role.rawValue, role: role).key }
        return keys
    }

    @Test func onceAKeyExistsEveryRouteChecksItsRole() async throws {
        let fixture = try await APIFixture()
        let keys = try await keys(fixture)
        let event = #"{"events":[{"id":"a","user":"u1","item":"v1","type":"like"}]}"#
        try await fixture.app.test(.router) { client in
            let missing = try await client.send(.get, "/v1/users/u1/feed")
            #expect(missing.status == .unauthorized)
            #expect(try missing.error().code == "unauthenticated")
            let wrong = try await client.send(.get, "/v1/users/u1/feed", key: "fy_000000000000_nope")
            #expect(wrong.status == .unauthorized)
            // (route, method, body, roles allowed besides admin)
            let table: [(String, HTTPRequest.Method, String?, Set<APIRole>)] = [
                ("/v1/events", .post, event, [.ingest]),
                ("/v1/users/u1/feed", .get, nil, [.serve]),
                ("/v1/users/u1/controls", .put, #"{"topics":{"t1":"more"}}"#, [.serve]),
                ("/v1/users/u1/export", .get, nil, []),
                ("/v1/models/current", .get, nil, [.overseer]),
                ("/v1/models", .get, nil, [.overseer]),
                ("/v1/audit", .get, nil, [.overseer]),
            ]
            for (path, method, body, allowed) in table {
                for role in APIRole.allCases {
                    let response = try await client.send(method, path, json: body, key: keys[role])
                    if allowed.contains(role) || role == .admin {
                        #expect(response.status != .forbidden && response.status != .unauthorized, "\(role) on \(method) \(path): \(response.status)")
                    } else {
                        #expect(response.status == .forbidden, "\(role) on \(method) \(path): \(response.status)")
                        #expect(try response.error().code == "forbidden")
                    }
                }
            }
            // The transparency report and health are public.
            #expect(try await client.send(.get, "/v1/transparency").status == .ok)
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
        // Key texts never reach the audit log; key ids do.
        let (lines, _) = try await fixture.engine.auditLog()
        for key in keys.values { #expect(!lines.contains { $0.contains(key) }) }
    }

    @Test func theOverseerReadsTheAuditLogAndTheTransparencyReport() async throws {
        let fixture = try await APIFixture()
        let overseer = try await fixture.engine.createAPIKey(name: "dsa", role: .overseer).key
        try await fixture.app.test(.router) { client in
            let audit = try await client.send(.get, "/v1/audit?limit=2", key: overseer)
            #expect(audit.status == .ok)
            let body = try audit.decoded(AuditResponse.self)
            #expect(body.intact && body.entries >= 2 && body.latest.count == 2)
            #expect(body.latest.last?.entry.kind == "key.created" && body.latest.last?.hash == body.headHash)
            let report = try await client.send(.get, "/v1/transparency")
            let transparency = try report.decoded(TransparencyReport.self)
            #expect(transparency.jurisdiction == "local" && transparency.modelVersion == Recommender.modelVersion)
            #expect(transparency.parameters.contains { $0.name == "signal.like" && $0.value == "4.0" })
            #expect(transparency.nonProfiledOption.contains("personalized=false"))
            let models = try await client.send(.get, "/v1/models", key: overseer)
            #expect(try models.decoded(ModelListResponse.self).models.isEmpty)
        }
    }

    @Test func feedsCarrySignalsAndTheNonProfiledOption() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            _ = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u1","item":"v1","type":"like"}]}"#)
            let feed = try await client.send(.get, "/v1/users/u1/feed?count=5")
            let body = try feed.decoded(FeedResponse.self)
            #expect(body.personalized && body.items.allSatisfy { !$0.signals.isEmpty })
            let plain = try await client.send(.get, "/v1/users/u1/feed?count=5&personalized=false")
            let other = try await client.send(.get, "/v1/users/u2/feed?count=5&personalized=false")
            #expect(try plain.decoded(FeedResponse.self).personalized == false)
            #expect(try plain.decoded(FeedResponse.self).items.map(\.item) == other.decoded(FeedResponse.self).items.map(\.item))
            let bad = try await client.send(.get, "/v1/users/u1/feed?personalized=maybe")
            #expect(bad.status == .badRequest)
            #expect(try bad.error().message.contains("personalized"))
        }
    }

    @Test func controlsResetAndExportOverHTTP() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            _ = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u1","item":"v1","type":"like"}]}"#)
            let put = try await client.send(.put, "/v1/users/u1/controls", json: #"{"topics":{"t1":"less"},"keyword_filters":["c2"]}"#)
            #expect(put.status == .ok)
            let controls = try await client.send(.get, "/v1/users/u1/controls").decoded(ControlsBody.self)
            #expect(controls.topics == ["t1": "less"] && controls.keywordFilters == ["c2"] && controls.personalized == true)
            let badTopic = try await client.send(.put, "/v1/users/u1/controls", json: #"{"topics":{"t1":"lots"}}"#)
            #expect(badTopic.status == .badRequest)
            #expect(try badTopic.error().message.contains("topics.t1"))
            #expect(try await client.send(.post, "/v1/users/u1/reset").status == .ok)
            let export = try await client.send(.get, "/v1/users/u1/export").decoded(ExportResponse.self)
            #expect(export.events.map(\.type) == ["like", "profile_reset"])
            #expect(export.controls.resetAt != nil && export.tagAffinities.isEmpty && export.auditPseudonym.hasPrefix("p-"))
            let wrongPlace = try await client.send(
                .post, "/v1/events", json: #"{"events":[{"id":"b","user":"u9","item":"v1","type":"like","jurisdiction":"us"}]}"#)
            #expect(try wrongPlace.decoded(EventBatchResponse.self).rejected.first?.code == "wrong_jurisdiction")
            let forged = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"c","user":"u9","type":"profile_reset"}]}"#)
            #expect(try forged.decoded(EventBatchResponse.self).rejected.first?.code == "unknown_type")
        }
    }

    @Test func aRefusedPackageIsA422WithItsCode() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/models/package", method: .put, body: ByteBuffer(string: "not a package"))
            #expect(response.status == .unprocessableContent)
            #expect(try response.error().code == "package_malformed")
        }
    }
}

struct KeyRouteTests {
    @Test func anAdminManagesKeysOverHTTPAndARevokedKeyStopsAtOnce() async throws {
        let fixture = try await APIFixture()
        let admin = try await fixture.engine.createAPIKey(name: "root", role: .admin).key
        try await fixture.app.test(.router) { client in
            let created = try await client.send(.post, "/v1/keys", json: #"{"name":"dsa-office","role":"overseer"}"#, key: admin)
            #expect(created.status == .created)
            let record = try created.decoded(KeyResponse.self)
            let key = try #require(record.key)
            #expect(record.role == "overseer" && key.hasPrefix("fy_\(record.id)_"))
            let audit = try await client.send(.get, "/v1/audit", key: key)
            #expect(audit.status == .ok)

            let list = try await client.send(.get, "/v1/keys", key: admin).decoded(KeyListResponse.self)
            #expect(list.keys.map(\.name) == ["root", "dsa-office"] && list.keys.allSatisfy { $0.key == nil })
            #expect(!(try await client.send(.get, "/v1/keys", key: admin)).text.contains(key))

            let revoked = try await client.send(.delete, "/v1/keys/\(record.id)", key: admin)
            #expect(try revoked.decoded(KeyResponse.self).revokedAt != nil)
            let after = try await client.send(.get, "/v1/audit", key: key)
            #expect(after.status == .unauthorized)
            let unknown = try await client.send(.delete, "/v1/keys/nope", key: admin)
            #expect(unknown.status == .notFound)
            let badRole = try await client.send(.post, "/v1/keys", json: #"{"name":"x","role":"root"}"#, key: admin)
            #expect(badRole.status == .badRequest)
            #expect(try badRole.error().message.contains("`role` must be one of"))
            let wrongType = try await client.send(.post, "/v1/keys", json: #"{"name":5,"role":"admin"}"#, key: admin)
            #expect(try wrongType.error().message == "`name` must be a string")
            let topics = try await client.send(.put, "/v1/users/u1/controls", json: #"{"topics":[]}"#, key: admin)
            #expect(try topics.error().message == "`topics` must be an object")
            let byOverseer = try await client.send(.post, "/v1/keys", json: #"{"name":"y","role":"admin"}"#, key: key)
            #expect(byOverseer.status == .unauthorized)
        }
    }
}

struct RateLimitTests {
    /// Each key has its own bucket: over its limit a key gets 429 `rate_limited` with Retry-After; another
    /// key is unaffected; the bucket refills with time.
    @Test func aKeyOverItsLimitIsAnswered429WhileOtherKeysAreNot() async throws {
        let fixture = try await APIFixture()
        let noisy = try await fixture.engine.createAPIKey(name: "noisy", role: .serve).key
        let quiet = try await fixture.engine.createAPIKey(name: "quiet", role: .serve).key
        let time = Mutex(0.0)
        let app = Application(
            router: ForYouAPI.makeRouter(
                engine: fixture.engine, limits: RateLimits(requestsPerSecond: 2, burst: 3), clock: { time.withLock { $0 } }))
        try await app.test(.router) { client in
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/users/u1/profile", key: noisy).status == .ok) }
            let limited = try await client.send(.get, "/v1/users/u1/profile", key: noisy)
            #expect(limited.status == .tooManyRequests)
            #expect(try limited.error().code == "rate_limited")
            #expect(limited.headers[.retryAfter] == "1")
            #expect(try await client.send(.get, "/v1/users/u1/profile", key: quiet).status == .ok)
            time.withLock { $0 += 0.5 }  // one token back at 2 per second
            #expect(try await client.send(.get, "/v1/users/u1/profile", key: noisy).status == .ok)
            #expect(try await client.send(.get, "/v1/users/u1/profile", key: noisy).status == .tooManyRequests)
        }
    }

    /// Limits follow the route the router matched, not the spelling: every spelling the router accepts for
    /// the feed route is held to the same bucket (19 of 20 refused at 1 per second, burst 1), and the
    /// spellings it does not accept are 404s, never served.
    @Test func oddSpellingsOfAPathGetTheSameLimits() async throws {
        let fixture = try await APIFixture()
        let key = try await fixture.engine.createAPIKey(name: "odd", role: .serve).key
        let time = Mutex(0.0)
        let app = Application(
            router: ForYouAPI.makeRouter(
                engine: fixture.engine, limits: RateLimits(requestsPerSecond: 1, burst: 1), clock: { time.withLock { $0 } }))
        try await app.test(.router) { client in
            for spelling in ["/v1/users/u/feed", "//v1/users/u/feed", "/v1//users/u/feed", "/v1/users/u/feed/", "//v1/users//u/feed//"] {
                time.withLock { $0 += 10 }  // a full bucket for each spelling
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<20 { statuses.append(try await client.send(.get, spelling, key: key).status) }
                #expect(statuses.filter { $0 == .ok }.count == 1, "\(spelling): \(statuses)")
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 19, "\(spelling): \(statuses)")
            }
            for spelling in ["/./v1/users/u/feed", "/V1/users/u/feed", "/v1%2Fusers%2Fu%2Ffeed", "/v1/users/u/./feed"] {
                time.withLock { $0 += 10 }
                let response = try await client.send(.get, spelling, key: key)
                #expect(response.status == .notFound, "\(spelling): \(response.status)")
            }
            // The package route's larger body limit is the route's, whatever the spelling.
            time.withLock { $0 += 10 }
            let admin = try await fixture.engine.createAPIKey(name: "ops", role: .admin).key
            var headers: HTTPFields = [.contentType: "application/octet-stream", .authorization: "Bearer \(admin)"]
            headers[.contentLength] = String(ForYouAPI.maximumBodyBytes + 1)
            for spelling in ["/v1/models/package", "//v1/models/package"] {
                let response = try await client.execute(uri: spelling, method: .put, headers: headers, body: ByteBuffer(repeating: 0, count: ForYouAPI.maximumBodyBytes + 1))
                #expect(response.status != .contentTooLarge, "\(spelling): \(response.status)")
            }
        }
    }

    /// A key with its own limits: its own rate (bursts of twice as many) instead of the server's, and its
    /// own largest body (413 naming the limit, before the body is read); keys without limits keep the
    /// server's; the limits survive in the key list.
    @Test func aKeyWithItsOwnLimitsIsHeldToThemAndOnlyThem() async throws {
        let fixture = try await APIFixture()
        let pipeline = try await fixture.engine.createAPIKey(
            name: "pipeline", role: .ingest, limits: APIKeyLimits(requestsPerSecond: 1, maximumBodyBytes: 2048)).key
        let ordinary = try await fixture.engine.createAPIKey(name: "ordinary", role: .ingest).key
        let admin = try await fixture.engine.createAPIKey(name: "ops", role: .admin).key
        let time = Mutex(0.0)
        let app = Application(
            router: ForYouAPI.makeRouter(
                engine: fixture.engine, limits: RateLimits(requestsPerSecond: 100, burst: 100, maximumBodyBytes: 1 << 20),
                clock: { time.withLock { $0 } }))
        let small = #"{"events":[{"id":"e1","user":"u1","item":"v1","type":"like"}]}"#
        let large = #"{"events":[]}"# + String(repeating: " ", count: 4096)
        try await app.test(.router) { client in
            // Rate 1 per second, burst 2: the third request in the same instant is refused.
            #expect(try await client.send(.post, "/v1/events", json: small, key: pipeline).status == .ok)
            #expect(try await client.send(.post, "/v1/events", json: small, key: pipeline).status == .ok)
            let limited = try await client.send(.post, "/v1/events", json: small, key: pipeline)
            #expect(limited.status == .tooManyRequests)
            #expect(try limited.error().message.contains("more than 1 requests per second (burst 2)"))
            for _ in 0..<5 { #expect(try await client.send(.post, "/v1/events", json: small, key: ordinary).status == .ok) }

            time.withLock { $0 += 10 }
            let tooLarge = try await client.send(.post, "/v1/events", json: large, key: pipeline)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try tooLarge.error().code == "payload_too_large")
            let message = try tooLarge.error().message
            #expect(message.contains("at most 2048 bytes"), "\(message)")
            #expect(try await client.send(.post, "/v1/events", json: large, key: ordinary).status == .ok)

            let listed = try await client.send(.get, "/v1/keys", key: admin).text
            #expect(listed.contains(#""rate_limit":1"#) && listed.contains(#""max_body_bytes":2048"#), "\(listed)")
            let created = try await client.send(.post, "/v1/keys", json: #"{"name":"public","role":"serve","rate_limit":5,"max_body_bytes":4096}"#, key: admin)
            #expect(created.status == .created && created.text.contains(#""rate_limit":5"#), "\(created.text)")
            let refused = try await client.send(.post, "/v1/keys", json: #"{"name":"bad","role":"serve","max_body_bytes":10}"#, key: admin)
            #expect(refused.status == .badRequest)
            #expect(try refused.error().message.contains("max_body_bytes"))
        }
    }
}
