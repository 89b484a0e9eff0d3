// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import ForYouTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

struct WebRouteTests {
    @Test func thePagesAndTheirFilesAreServedWithTheirTypes() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            for (path, type, marker) in [
                ("/", "text/html", "What ForYou believes about you"), ("/console", "text/html", "User lookup"),
                ("/web/feed.js", "text/javascript", "watch_ms"), ("/web/console.js", "text/javascript", "/metrics"),
                ("/web/style.css", "text/css", ".card"), ("/web/viewers.json", "application/json", "["),
            ] {
                let response = try await client.send(.get, path)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(path): \(response.headers[.contentType] ?? "")")
                #expect(response.text.contains(marker), "\(path) lacks \(marker)")
            }
            let missing = try await client.send(.get, "/web/nope.js")
            #expect(missing.status == .notFound)
            #expect(try missing.error().code == "not_found")
            #expect(try await client.send(.post, "/console").status == .methodNotAllowed)
        }
    }

    @Test func theDemoViewersAreListedForThePicker() async throws {
        let fixture = try await APIFixture()
        let app = Application(router: ForYouAPI.makeRouter(engine: fixture.engine, web: WebPages(viewers: [(id: "u1", description: "likes \"cats\"")])))
        try await app.test(.router) { client in
            let viewers = try await client.send(.get, "/web/viewers.json")
            let list = try JSONSerialization.jsonObject(with: Data(viewers.body.readableBytesView)) as? [[String: String]]
            #expect(list == [["id": "u1", "description": "likes \"cats\""]])
        }
    }

    @Test func feedItemsCarryTheirMetadataAndTheProfileFollowsEvents() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            _ = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u1","item":"v1","type":"like"}]}"#)
            let feed = try await client.send(.get, "/v1/users/u1/feed?count=3").decoded(FeedResponse.self)
            #expect(feed.items.allSatisfy { $0.creator != nil && $0.tags?.isEmpty == false && ($0.durationMs ?? 0) == 10_000 })
            let profile = try await client.send(.get, "/v1/users/u1/profile").decoded(ProfileResponse.self)
            #expect(profile.tags.first?.name == "t1" && profile.creators.first?.name == "c1")
            #expect(try await client.send(.get, "/v1/users/nobody/profile").decoded(ProfileResponse.self).tags.isEmpty)
        }
    }

    /// The console's preview computes the next feed without recording it: the user's real next feed is
    /// the same, and nothing was written to served history. It needs an admin key.
    @Test func aPreviewIsNotRecordedAndNeedsAnAdminKey() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            _ = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"a","user":"u1","item":"v1","type":"like"}]}"#)
            let preview = try await client.send(.get, "/v1/users/u1/feed?count=5&preview=true").decoded(FeedResponse.self)
            #expect(try await fixture.store.served(of: UserID(trusted: "u1")).isEmpty)
            let real = try await client.send(.get, "/v1/users/u1/feed?count=5").decoded(FeedResponse.self)
            #expect(preview.items.map(\.item) == real.items.map(\.item))
        }
        let serve = try await fixture.engine.createAPIKey(name: "app", role: .serve).key
        try await fixture.app.test(.router) { client in
            let preview = try await client.send(.get, "/v1/users/u1/feed?preview=true", key: serve)
            #expect(preview.status == .forbidden)
            let profile = try await client.send(.get, "/v1/users/u1/profile", key: serve)
            #expect(profile.status == .ok)
            let page = try await client.send(.get, "/")
            #expect(page.status == .ok)
        }
    }
}
