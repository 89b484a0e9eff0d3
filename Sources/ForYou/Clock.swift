// SPDX-License-Identifier: Apache-2.0

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the engine reads the time. Injected so that tests and simulations are deterministic.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Timestamp
}

extension Duration {
    /// The duration in seconds, as a `Double` (for reports and metrics).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Timestamp {
        Timestamp(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
