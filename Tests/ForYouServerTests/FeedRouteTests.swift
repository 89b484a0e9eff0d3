// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import ForYouTesting
import Hummingbird
import HummingbirdTesting
import Testing

struct FeedRouteTests {
    /// A full disk stops writes, not reads: the feed is answered, its items count as served in memory
    /// (the next feed brings others), and the failed served-history write is counted in /metrics.
    @Test func feedsAreAnsweredWhileServedHistoryCannotBeWritten() async throws {
        let fixture = try await APIFixture()
        _ = try await fixture.engine.ingest([EventInput(id: "e1", user: "u1", item: "v1", type: "like")])
        try await fixture.app.test(.router) { client in
            fixture.store.set(.unavailable)
            let first = try await client.send(.get, "/v1/users/u1/feed?count=5")
            #expect(first.status == .ok, "\(first.text)")
            let second = try await client.send(.get, "/v1/users/u1/feed?count=5")
            let firstItems = Set(try first.decoded(FeedResponse.self).items.map(\.item))
            let secondItems = Set(try second.decoded(FeedResponse.self).items.map(\.item))
            #expect(firstItems.count == 5 && firstItems.isDisjoint(with: secondItems), "the second feed repeated \(firstItems.intersection(secondItems))")
            fixture.store.set(.healthy)
            let metrics = try await client.send(.get, "/metrics").text
            #expect(metrics.contains("foryou_served_history_write_failures_total 2"), "\(metrics)")
            // No model serves here, so no user vector was folded in.
            #expect(metrics.contains("foryou_user_vectors 0\n") && metrics.contains("foryou_user_vectors_folded_in_total 0\n"))
        }
    }

    @Test func anUnknownUserGetsTenItemsWithReasons() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.get, "/v1/users/nobody/feed")
            #expect(response.status == .ok)
            let feed = try response.decoded(FeedResponse.self)
            #expect(feed.user == "nobody")
            #expect(feed.modelVersion == Recommender.modelVersion)
            #expect(feed.items.count == 10)
            #expect(feed.items.allSatisfy { !$0.reason.isEmpty && !$0.source.isEmpty })
        }
    }

    @Test func aLikeSentOverHTTPChangesTheNextFeed() async throws {
        let fixture = try await APIFixture()
        // Another user links v3 with v8 and v13 (all tag t3... and t0/t1).
        _ = try await fixture.engine.ingest(["v3", "v8", "v13"].enumerated().map {
            EventInput(id: "o\($0.offset)", user: "other", item: $0.element, type: "like")
        })
        try await fixture.app.test(.router) { client in
            _ = try await client.send(.post, "/v1/events", json: #"{"events":[{"id":"m1","user":"me","item":"v3","type":"like"}]}"#)
            let feed = try await client.send(.get, "/v1/users/me/feed?count=3").decoded(FeedResponse.self)
            #expect(feed.items.first?.reason == "because you watched v3")
            #expect(feed.items.first?.source == "co_visitation")
        }
    }

    @Test(arguments: ["0", "101", "-1", "ten", "1.5", ""])
    func aCountOutsideOneToHundredIsRefused(count: String) async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.get, "/v1/users/u/feed?count=\(count)")
            #expect(response.status == .badRequest)
            #expect(try response.error().code == "invalid_argument")
            #expect(try response.error().message.contains("`count`"))
        }
    }

    @Test func percentEncodedUserIDsAreDecodedAndOverlongOnesRefused() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let spaced = try await client.send(.get, "/v1/users/a%20b/feed?count=2").decoded(FeedResponse.self)
            #expect(spaced.user == "a b")
            let long = try await client.send(.get, "/v1/users/\(String(repeating: "x", count: 300))/feed")
            #expect(long.status == .badRequest)
            #expect(try long.error().code == "invalid_id")
        }
    }
}
