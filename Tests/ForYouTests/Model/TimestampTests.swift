// SPDX-License-Identifier: Apache-2.0

import ForYou
import Testing

struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2026-11-26T08:30:00Z", Int64(1_795_681_800_000)),
        ("2026-11-26T09:30:00.250+01:00", Int64(1_795_681_800_250)),
        ("2026-11-26t08:30:00.1234567z", Int64(1_795_681_800_123)),
        ("2026-11-26 03:30:00-05:00", Int64(1_795_681_800_000)),
        ("2024-02-29T23:59:59.999Z", Int64(1_709_251_199_999)),
        ("1969-12-31T23:59:59Z", Int64(-1_000)),
    ])
    func parsesRFC3339(text: String, milliseconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: [
        "", "2026-11-26", "2026-11-26T08:30:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-26T24:00:00Z",
        "2026-11-26T08:30:60Z", "2026-11-26T08:30:00.Z", "2026-11-26T08:30:00+0100", "2026-11-26T08:30:00Zjunk", "26-11-26T08:30:00Z",
        "2026-11-26T08:30:00 Z", "２０２６-11-26T08:30:00Z",
    ])
    func refusesInvalidText(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func formatsAndParsesBackOneInstantAWeekOverFourHundredYears() {
        var day = Timestamp(rfc3339: "1900-01-01T13:14:15.016Z")!
        for _ in 0..<(400 * 366 / 7) {
            #expect(Timestamp(rfc3339: day.rfc3339) == day)
            day = day.advanced(byMilliseconds: 7 * Timestamp.day + 1)
        }
    }

    @Test func formatsUTCWithMilliseconds() {
        #expect(Timestamp(milliseconds: 1_795_681_800_250).rfc3339 == "2026-11-26T08:30:00.250Z")
        #expect(Timestamp(milliseconds: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
    }
}
