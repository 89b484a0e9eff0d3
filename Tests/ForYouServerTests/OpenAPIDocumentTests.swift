// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

struct OpenAPIDocumentTests {
    /// The contract and the router agree: every route with each of its methods is documented, and the
    /// document describes no route that does not exist.
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let fixture = try await APIFixture()
        try await fixture.app.test(.router) { client in
            let response = try await client.send(.get, "/openapi.json")
            #expect(response.status == .ok)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths {
                for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            let routed = Set(ForYouAPI.routes.flatMap { route in route.methods.map { "\($0.rawValue) \(route.path.description)" } })
            #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
            #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")
        }
    }
}
