// SPDX-License-Identifier: Apache-2.0

import Foundation
@testable import ForYouServer
import Testing

struct FeedResponseJSONTests {
    /// The hand-written feed JSON is the document JSONEncoder writes for the same answer (JSONEncoder's
    /// key order varies between processes, so the two are compared parsed): strings that need escaping
    /// (quotes, backslashes, slashes, control characters, non-ASCII), floats of every shape (whole, tiny,
    /// huge, negative, zero), absent and present metadata, no signals and several. Numbers are written
    /// as JSONEncoder writes them.
    @Test func matchesJSONEncoder() throws {
        let source = #"""
            {"user": "u/1 \"quoted\" \\ tab\t nl\n bell\u0007 é 🎬", "model_version": "blend-abc/1", "personalized": true,
             "items": [
               {"item": "v1", "score": 1.0, "reason": "Because you liked \"Cats/Dogs\"", "source": "learned",
                "signals": [{"name": "learned", "value": 0.1}, {"name": "co_visitation", "value": 1e-7},
                            {"name": "popular", "value": 30000000000}, {"name": "affinity", "value": -2.5}],
                "creator": "c\u001f1", "tags": ["a/b", "ü", ""], "duration_ms": 15000},
               {"item": "v2", "score": 0, "reason": "Fresh", "source": "exploration", "signals": []},
               {"item": "v3", "score": 0.33333334, "reason": "r", "source": "s", "signals": [{"name": "n", "value": 123456790}],
                "tags": [], "duration_ms": -1}
             ]}
            """#
        let response = try JSONDecoder().decode(FeedResponse.self, from: Data(source.utf8))
        let expected = try JSONEncoder().encode(response)
        let written = Data(try response.jsonBytes())
        #expect(try parsed(written) == parsed(expected), "\(String(decoding: written, as: UTF8.self))\n≠\n\(String(decoding: expected, as: UTF8.self))")
        let text = String(decoding: written, as: UTF8.self)
        for (key, number) in [("score", "1"), ("value", "1e-07"), ("value", "3e+10"), ("value", "-2.5"), ("score", "0"), ("value", "1.2345679e+08")] {
            for document in [text, String(decoding: expected, as: UTF8.self)] {
                #expect(document.contains("\"\(key)\":\(number),") || document.contains("\"\(key)\":\(number)}"), "\(key): \(number) in \(document)")
            }
        }
        #expect(text.contains(#""user":"u\/1 \"quoted\" \\ tab\t nl\n bell\u0007 é 🎬""#), "\(text)")

        let empty = try JSONDecoder().decode(FeedResponse.self, from: Data(#"{"user":"u","model_version":"m","personalized":false,"items":[]}"#.utf8))
        #expect(try parsed(Data(empty.jsonBytes())) == parsed(JSONEncoder().encode(empty)))
    }

    private func parsed(_ data: Data) throws -> NSDictionary {
        try #require(JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }
}
