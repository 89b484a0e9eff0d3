// SPDX-License-Identifier: Apache-2.0
//
// Per-key rate limits: a token bucket for each API key, so one noisy key is answered 429 with
// Retry-After while every other key keeps its own budget. Requests without keys (development mode,
// before any key exists) are not limited.

import Foundation
import Synchronization

/// How many requests each API key may make.
public struct RateLimits: Sendable {
    /// Sustained requests per second per key; 0 turns limiting off. Default: 200.
    public var requestsPerSecond: Double
    /// How many requests a key may make at once after being idle. Default: 400.
    public var burst: Int

    public init(requestsPerSecond: Double = 200, burst: Int = 400) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }
}

/// Token buckets by key id.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }
    let limits: RateLimits
    private let buckets = Mutex<[String: Bucket]>([:])
    private let now: @Sendable () -> Double

    /// - Parameter now: seconds on a monotonic clock (tests pass their own).
    init(_ limits: RateLimits, now: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.limits = limits
        self.now = now
    }

    /// Takes one request from the key's bucket; `nil` when admitted, else the seconds until it would be.
    func admit(_ key: String) -> Double? {
        guard limits.requestsPerSecond > 0 else { return nil }
        let time = now()
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(limits.burst), updated: time)
            bucket.tokens = min(Double(limits.burst), bucket.tokens + (time - bucket.updated) * limits.requestsPerSecond)
            bucket.updated = time
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / limits.requestsPerSecond
        }
    }
}
