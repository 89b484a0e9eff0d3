// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouPostgres
import ForYouTesting
import Foundation
import NIOHTTP1
import Testing

/// Two real `foryou serve` processes on one PostgreSQL database, as a deployment that outgrew one
/// machine runs them: each follows what the other writes, without a restart.
@Suite(.serialized)
struct SharedDatabaseTests {
    /// Polls `condition` every 50 ms for up to 10 s; returns whether it became true.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<200 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func twoServersOnOneDatabaseFollowEachOther() async throws {
        let url = try await PostgresStore.createDatabase(named: TestPostgres.freshDatabaseName(), on: try TestPostgres.serverURL(), timeout: .seconds(180))  // the suite keeps both cores busy
        let a = try await ServerProcess(arguments: ["serve", "--store", url, "--port", "0", "--rate-limit", "0"])
        let b = try await ServerProcess(arguments: ["serve", "--store", url, "--port", "0", "--rate-limit", "0"])
        defer {
            _ = a.stop(signal: SIGTERM)
            _ = b.stop(signal: SIGTERM)
        }
        #expect(a.log.contains("(PostgreSQL postgres://postgres@127.0.0.1"), "\(a.log)")

        // An item upserted on A can be named in events sent to B at once.
        #expect(try await a.request(.PUT, "/v1/items", json: #"{"items":[{"id":"fresh","creator":"c9","tags":["t9"],"duration_ms":1000}]}"#).status == 200)
        let atOnce = try await b.request(.POST, "/v1/events", json: #"{"events":[{"id":"fresh-view","user":"u9","item":"fresh","type":"like"}]}"#)
        #expect(atOnce.body.contains(#""accepted":1"#), "\(atOnce.body)")

        // Items upserted on A reach B's catalogue.
        #expect(try await a.request(.PUT, "/v1/items", json: #"{"items":[\#(ServeProcessTests.items)]}"#).status == 200)
        #expect(try await eventually { try await b.request(.GET, "/healthz").body.contains(#""items":21"#) }, "B never saw A's items")

        // Events ingested on B change the profile A serves.
        let likes = (0..<40).map { #"{"id":"like-\#($0)","user":"u\#($0 % 8)","item":"v\#($0 % 10)","type":"like"}"# }
        let ingest = try await b.request(.POST, "/v1/events", json: #"{"events":[\#(likes.joined(separator: ","))]}"#)
        #expect(ingest.status == 200 && ingest.body.contains(#""accepted":40"#), "\(ingest.body)")
        let folded = try await eventually { try await a.request(.GET, "/v1/users/u1/profile").body.contains(#""recent_positives":5"#) }
        let profile = try await a.request(.GET, "/v1/users/u1/profile").body
        #expect(folded, "A never folded in B's events: \(profile)")
        // Resent on A, they are duplicates: one log.
        let resent = try await a.request(.POST, "/v1/events", json: #"{"events":[\#(likes[0])]}"#)
        #expect(resent.body.contains(#""duplicates":1"#), "\(resent.body)")

        // A model trained on A serves on B.
        let trained = try await a.request(.POST, "/v1/models/train")
        #expect(trained.status == 200, "\(trained.body)")
        let version = try #require(trained.body.firstMatch(of: /"model_version":"([^"]+)"/)?.output.1)
        #expect(try await eventually { try await b.request(.GET, "/v1/models/current").body.contains(#""model_version":"\#(version)""#) },
            "B never served A's model \(version)")
        #expect(try await b.request(.GET, "/v1/users/u1/feed?count=5").body.contains(#""model_version":"\#(version)""#))

        // A key created on B locks A as well, and authenticates there.
        let created = try await b.request(.POST, "/v1/keys", json: #"{"name":"ops","role":"admin"}"#)
        #expect(created.status == 201, "\(created.body)")
        let key = try #require(created.body.firstMatch(of: /"key":"([^"]+)"/)?.output.1).description
        #expect(try await eventually { try await a.request(.GET, "/v1/users/u1/feed").status == 401 }, "A stayed open after B made a key")
        #expect(try await a.request(.GET, "/v1/users/u1/feed", key: key).status == 200)

        // Erasure on A: B forgets the user too.
        let erasure = try await a.request(.DELETE, "/v1/users/u1", key: key)
        #expect(erasure.status == 200 && erasure.body.contains(#""outcome":"unlearned""#), "\(erasure.body)")
        let unlearned = try #require(erasure.body.firstMatch(of: /"model_version":"([^"]+)"/)?.output.1)
        #expect(unlearned != version)
        #expect(try await eventually { try await b.request(.GET, "/v1/users/u1/profile", key: key).body.contains(#""recent_positives":0"#) },
            "B still holds the erased user's profile")
        // The model trained on the erased user's events is replaced by the unlearned one on B too.
        #expect(try await eventually { try await b.request(.GET, "/v1/models/current", key: key).body.contains(#""model_version":"\#(unlearned)""#) },
            "B does not serve the unlearned model \(unlearned)")

        // One audit chain, written by both servers.
        let audit = try await b.request(.GET, "/v1/audit?limit=1", key: key)
        #expect(audit.body.contains(#""intact":true"#), "\(audit.body)")
    }
}
