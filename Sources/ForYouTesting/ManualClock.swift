// SPDX-License-Identifier: Apache-2.0

import ForYou
import Synchronization

/// A clock that only moves when told to, for deterministic tests.
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>

    /// A clock reading `start` (default 2026-11-26T08:00:00Z).
    public init(_ start: Timestamp = Timestamp(rfc3339: "2026-11-26T08:00:00Z")!) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(byMilliseconds milliseconds: Int64) {
        current.withLock { $0 = $0.advanced(byMilliseconds: milliseconds) }
    }
}
