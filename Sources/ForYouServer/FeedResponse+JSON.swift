// SPDX-License-Identifier: Apache-2.0
//
// The feed answer written straight into a buffer: feeds are the hot route, and the generic JSONEncoder
// (a tree of boxed values, then the bytes) cost as much as ranking's largest step. The document is the
// one JSONEncoder writes for `FeedResponse` (absent optionals left out, `/` escaped, a float as its
// shortest description without a trailing ".0"), with keys in declaration order; a test compares the two.

import ForYou
import Hummingbird

extension FeedResponse: ResponseGenerator {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        let bytes = try jsonBytes()
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(bytes.count)],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The JSON of this answer, as JSONEncoder writes it.
    func jsonBytes() throws -> [UInt8] {
        var json = JSONBytes()
        try write(into: &json)
        return json.bytes
    }

    private func write(into json: inout JSONBytes) throws {
        json.raw("{\"user\":")
        json.string(user)
        json.raw(",\"model_version\":")
        json.string(modelVersion)
        json.raw(",\"personalized\":")
        json.raw(personalized ? "true" : "false")
        json.raw(",\"items\":[")
        for (index, entry) in items.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"item\":")
            json.string(entry.item)
            json.raw(",\"score\":")
            try json.number(entry.score, field: "score")
            json.raw(",\"reason\":")
            json.string(entry.reason)
            json.raw(",\"source\":")
            json.string(entry.source)
            json.raw(",\"signals\":[")
            for (position, signal) in entry.signals.enumerated() {
                if position > 0 { json.raw(",") }
                json.raw("{\"name\":")
                json.string(signal.name)
                json.raw(",\"value\":")
                try json.number(signal.value, field: "signals.value")
                json.raw("}")
            }
            json.raw("]")
            if let creator = entry.creator {
                json.raw(",\"creator\":")
                json.string(creator)
            }
            if let tags = entry.tags {
                json.raw(",\"tags\":[")
                for (position, tag) in tags.enumerated() {
                    if position > 0 { json.raw(",") }
                    json.string(tag)
                }
                json.raw("]")
            }
            if let duration = entry.durationMs {
                json.raw(",\"duration_ms\":")
                json.raw(String(duration))
            }
            json.raw("}")
        }
        json.raw("]}")
    }
}

/// A JSON document being written, byte by byte.
struct JSONBytes {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(4_096) }

    /// Appends text that needs no escaping.
    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Appends a string literal, escaped as JSONEncoder escapes it.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "/"): bytes.append(contentsOf: [0x5C, 0x2F])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a number as JSONEncoder writes a Float; like it, refuses a value JSON cannot hold.
    mutating func number(_ value: Float, field: String) throws {
        guard value.isFinite else { throw ForYouError(.internal, "`\(field)` is not a finite number: \(value)") }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        raw(text)
    }
}
