// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import ForYouTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore

/// An engine with a small catalogue (items v0...v19 by creators c0...c4, tags t0...t3) behind the router.
struct APIFixture {
    let clock = ManualClock()
    let store: FaultyStore
    let engine: Recommender
    let app: Application<RouterResponder<BasicRequestContext>>

    init() async throws {
        store = FaultyStore()
        engine = try await Recommender.open(store: store, clock: clock)
        _ = try await engine.upsertItems((0..<20).map {
            ItemInput(id: "v\($0)", creator: "c\($0 % 5)", tags: ["t\($0 % 4)"], durationMilliseconds: 10_000, language: "en",
                      publishedAt: "2026-11-20T00:00:00Z")
        })
        app = Application(router: ForYouAPI.makeRouter(engine: engine))
    }
}

extension TestResponse {
    /// The body decoded as JSON into `type`.
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    /// The error code and message of an error response.
    func error() throws -> ErrorBody.Detail { try decoded(ErrorBody.self).error }

    var text: String { String(buffer: body) }
}

extension TestClientProtocol {
    func send(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}
