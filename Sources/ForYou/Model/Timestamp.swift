// SPDX-License-Identifier: Apache-2.0

/// A point in time: whole milliseconds since 1970-01-01T00:00:00Z (Unix time, UTC).
///
/// The engine keeps its own time type so it needs no Foundation; RFC 3339 parsing and formatting
/// live in `Timestamp+RFC3339.swift`.
public struct Timestamp: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch.
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// The instant `seconds` after the Unix epoch.
    public static func seconds(_ seconds: Int64) -> Timestamp { Timestamp(milliseconds: seconds * 1000) }

    /// This instant moved by `milliseconds` (negative moves back).
    public func advanced(byMilliseconds milliseconds: Int64) -> Timestamp {
        Timestamp(milliseconds: self.milliseconds &+ milliseconds)
    }

    /// The milliseconds from `other` to this instant.
    public func milliseconds(since other: Timestamp) -> Int64 { milliseconds &- other.milliseconds }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    public var description: String { rfc3339 }

    /// One hour in milliseconds.
    public static let hour: Int64 = 3_600_000
    /// One day in milliseconds.
    public static let day: Int64 = 86_400_000
}
