// SPDX-License-Identifier: Apache-2.0

import ForYou
@testable import ForYouServer
import NIOCore
import Testing

/// The fast path for simple event batches gives the same events as the general decoder, and leaves
/// everything else (with its error messages) to the general decoder.
struct EventBatchFastPathTests {
    static func fast(_ json: String, limit: Int = 1000) -> [EventInput]? {
        let buffer = ByteBuffer(string: json)
        return buffer.withUnsafeReadableBytes { EventBatchFastPath.parse($0, limit: limit) }
    }

    static func general(_ json: String) throws -> [EventInput] {
        try ForYouAPI.decode(EventBatchRequest.self, from: ByteBuffer(string: json), limit: 1000).events.map(\.input)
    }

    static func fields(_ input: EventInput) -> [String] {
        [
            input.id, input.user, input.item, input.creator, input.type, input.at, input.watchMilliseconds.map { "\($0)" },
            input.jurisdiction, input.region, input.malformedField.map { "\($0.field): \($0.rule)" }, input.unknownField,
        ].map { $0 ?? "nil" }
    }

    @Test(arguments: [
        #"{"events":[]}"#,
        #"{"events":[{}]}"#,
        #" { "events" : [ { "id" : "e1" , "user" : "u1", "item": "v1", "type": "view", "watch_ms": 12000 } ] } "#,
        #"{"events":[{"id":"e1","user":"ü-ser","item":"v1","type":"like","at":"2026-11-26T10:00:00Z","creator":"c","jurisdiction":"eu"},{"id":"e2","user":"u","type":"follow","creator":"c2"}]}"#,
        #"{"events":[{"id":"e1","user":"u","item":"v","type":"like","region":"FR-IDF","jurisdiction":"eu"}]}"#,
        #"{"events":[{"id":"e1","user":"u","item":"v","type":"view","watch_ms":-5}]}"#,
        #"{"events":[{"id":"e1","user":"u","item":"v","type":"view","watch_ms":0}]}"#,
    ])
    func simpleBatchesTakeTheFastPathAndAgree(json: String) throws {
        let fast = try #require(Self.fast(json))
        let general = try Self.general(json)
        #expect(fast.map(Self.fields) == general.map(Self.fields))
    }

    @Test(arguments: [
        #"{"events":[{"id":"e\"1"}]}"#,  // an escape
        #"{"events":[{"id":null}]}"#,  // a null
        #"{"events":[{"id":"e1","colour":"red"}]}"#,  // an unknown field
        #"{"events":[{"id":"e1","id":"e2"}]}"#,  // a repeated field
        #"{"events":[{"region":"a","region":"b"}]}"#,
        #"{"events":[{"id":1}]}"#,  // another type
        #"{"events":[{"watch_ms":"12"}]}"#,
        #"{"events":[{"watch_ms":1.5}]}"#,
        #"{"events":[{"watch_ms":1e3}]}"#,
        #"{"events":[{"watch_ms":012}]}"#,
        #"{"events":[{"watch_ms":99999999999999999999}]}"#,
        #"{"events":[{"id":"e1"}],"more":1}"#,  // another top-level field
        #"{"events":[{"id":"e1"},]}"#,  // malformed JSON
        #"{"events":[{"id":"e1"}]} x"#,
        #"[]"#,
        #"{"events":["e1"]}"#,
        "",
    ])
    func anythingElseGoesToTheGeneralDecoder(json: String) {
        #expect(Self.fast(json) == nil)
    }

    /// Invalid UTF-8 inside a string is for the general decoder to refuse.
    @Test func invalidUTF8GoesToTheGeneralDecoder() {
        let buffer = ByteBuffer(bytes: Array(#"{"events":[{"user":"a"#.utf8) + [0xFF] + Array(#""}]}"#.utf8))
        #expect(buffer.withUnsafeReadableBytes { EventBatchFastPath.parse($0, limit: 10) } == nil)
    }

    @Test func batchesOverTheLimitGoToTheGeneralDecoderWhichRefusesThem() {
        let json = #"{"events":[{"id":"a"},{"id":"b"},{"id":"c"}]}"#
        #expect(Self.fast(json, limit: 2) == nil)
        #expect(Self.fast(json, limit: 3)?.count == 3)
    }
}
