// SPDX-License-Identifier: Apache-2.0
//
// RFC 3339 date-times, parsed and formatted by hand: the engine has no Foundation, and the parser is on
// the ingest path. Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with `t`/`z` or a space for `T`
// as RFC 3339 §5.6 allows. Fractions beyond milliseconds are truncated. Leap seconds (`:60`) are
// refused, as most stores do.

extension Timestamp {
    /// Parses an RFC 3339 date-time such as `2026-11-26T08:30:00Z` or `2026-11-26T09:30:00.250+01:00`.
    /// - Returns: `nil` when the text is not a valid RFC 3339 date-time.
    public init?(rfc3339 text: String) {
        var bytes = Array(text.utf8)[...]
        func number(_ width: Int) -> Int? {
            guard bytes.count >= width else { return nil }
            var value = 0
            for _ in 0..<width {
                let c = bytes.removeFirst()
                guard c >= 48 && c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        func expect(_ allowed: [UInt8]) -> Bool {
            guard let c = bytes.first, allowed.contains(c) else { return false }
            bytes.removeFirst()
            return true
        }
        guard let year = number(4), expect([45]), let month = number(2), expect([45]), let day = number(2),
            expect([84, 116, 32]), let hour = number(2), expect([58]), let minute = number(2), expect([58]),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year), hour < 24, minute < 60,
            second < 60
        else { return nil }
        var millis = 0
        if bytes.first == 46 {  // "."
            bytes.removeFirst()
            var digits = 0
            while let c = bytes.first, c >= 48 && c <= 57 {
                bytes.removeFirst()
                if digits < 3 { millis = millis * 10 + Int(c - 48) }
                digits += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        var offsetMinutes = 0
        guard let zone = bytes.first else { return nil }
        bytes.removeFirst()
        switch zone {
        case 90, 122:  // Z z
            break
        case 43, 45:  // + -
            guard let oh = number(2), expect([58]), let om = number(2), oh < 24, om < 60 else { return nil }
            offsetMinutes = (oh * 60 + om) * (zone == 45 ? -1 : 1)
        default:
            return nil
        }
        guard bytes.isEmpty else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        self.init(milliseconds: seconds * 1000 + Int64(millis))
    }

    /// The instant in RFC 3339 form, UTC, with milliseconds: `2026-11-26T08:30:00.000Z`.
    public var rfc3339: String {
        let ms = milliseconds
        let totalSeconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = Int(ms - totalSeconds * 1000)
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secondOfDay = Int(totalSeconds - days * 86_400)
        let (y, m, d) = Self.civil(fromDays: Int(days))
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):"
            + "\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    // MARK: - Civil calendar (Howard Hinnant's days_from_civil / civil_from_days)

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
