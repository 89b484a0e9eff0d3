// SPDX-License-Identifier: Apache-2.0
//
// A fast path for the common `POST /v1/events` body: `{"events":[{...},...]}` whose events have only
// known fields, string values without escapes and an integer `watch_ms`. It reads the bytes once and
// builds the `EventInput`s directly, several times faster than `JSONDecoder` with the lenient records
// of Payloads.swift (measured with `foryou bench world`). Anything else (an escape, a null, an unknown
// or repeated field, a value of another type, more events than the limit, malformed JSON) returns
// nil, and the body is decoded the usual way, so every error message stays what it was. A test
// checks the two paths agree.

import ForYou

enum EventBatchFastPath {
    /// The events of a simple batch body, or nil when the body needs the general decoder.
    static func parse(_ bytes: UnsafeRawBufferPointer, limit: Int) -> [EventInput]? {
        var parser = Parser(bytes: bytes)
        return parser.batch(limit: limit)
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func skipSpace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipSpace()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func peek() -> UInt8? {
            skipSpace()
            return position < bytes.count ? bytes[position] : nil
        }

        /// A string without escapes or control characters.
        mutating func string() -> String? {
            guard consume(0x22) else { return nil }
            let start = position
            var ascii = true
            while position < bytes.count {
                let byte = bytes[position]
                if byte == 0x22 {
                    let text = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                    // ASCII is valid UTF-8 as it stands (and `String(validating:)` is slow generic code);
                    // invalid UTF-8 is for the general decoder to refuse.
                    guard let value = ascii ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self) else { return nil }
                    position += 1
                    return value
                }
                if byte == 0x5C || byte < 0x20 { return nil }
                if byte >= 0x80 { ascii = false }
                position += 1
            }
            return nil
        }

        /// An integer without fraction or exponent that fits in Int64.
        mutating func integer() -> Int64? {
            skipSpace()
            var negative = false
            if position < bytes.count, bytes[position] == 0x2D {
                negative = true
                position += 1
            }
            let start = position
            var value: Int64 = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(bytes[position] - 0x30))
                if overflow1 || overflow2 { return nil }
                value = sum
                position += 1
            }
            guard position > start, position - start == 1 || bytes[start] != 0x30 else { return nil }
            if position < bytes.count, [0x2E, 0x65, 0x45].contains(bytes[position]) { return nil }
            return negative ? -value : value
        }

        mutating func batch(limit: Int) -> [EventInput]? {
            guard consume(0x7B), string() == "events", consume(0x3A), consume(0x5B) else { return nil }
            var events: [EventInput] = []
            if peek() == 0x5D {
                position += 1
            } else {
                while true {
                    guard events.count < limit, let event = event() else { return nil }
                    events.append(event)
                    if consume(0x2C) { continue }
                    guard consume(0x5D) else { return nil }
                    break
                }
            }
            guard consume(0x7D) else { return nil }
            skipSpace()
            return position == bytes.count ? events : nil
        }

        mutating func event() -> EventInput? {
            guard consume(0x7B) else { return nil }
            var input = EventInput()
            var seen: UInt16 = 0
            if peek() == 0x7D {
                position += 1
                return input
            }
            while true {
                guard let key = string(), consume(0x3A) else { return nil }
                let bit: UInt16
                switch key {
                case "id": bit = 1
                case "user": bit = 2
                case "item": bit = 4
                case "creator": bit = 8
                case "type": bit = 16
                case "at": bit = 32
                case "watch_ms": bit = 64
                case "jurisdiction": bit = 128
                case "region": bit = 256
                default: return nil
                }
                guard seen & bit == 0 else { return nil }
                seen |= bit
                if bit == 64 {
                    guard let value = integer() else { return nil }
                    input.watchMilliseconds = value
                } else {
                    guard let value = string() else { return nil }
                    switch bit {
                    case 1: input.id = value
                    case 2: input.user = value
                    case 4: input.item = value
                    case 8: input.creator = value
                    case 16: input.type = value
                    case 32: input.at = value
                    case 128: input.jurisdiction = value
                    default: input.region = value
                    }
                }
                if consume(0x2C) { continue }
                guard consume(0x7D) else { return nil }
                return input
            }
        }
    }
}
