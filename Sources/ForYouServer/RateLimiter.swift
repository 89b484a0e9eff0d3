// SPDX-License-Identifier: Apache-2.0
//
// Per-key rate limits: a token bucket for each API key, so one noisy key is answered 429 with
// Retry-After while every other key keeps its own budget. A key may carry its own rate; the others get
// the server's. Requests without keys (development mode, before any key exists) are not rate limited.

import ForYou
import Foundation
import Synchronization

/// How much each API key may send, unless the key has limits of its own (``APIKeyLimits``).
public struct RateLimits: Sendable {
    /// Sustained requests per second per key; 0 turns limiting off. Default: 200.
    public var requestsPerSecond: Double
    /// How many requests a key may make at once after being idle. Default: 400.
    public var burst: Int
    /// The largest request body, in bytes (algorithm packages may be 16 times larger). Default: 4 MiB.
    public var maximumBodyBytes: Int
    /// How many API reads (GET) run at once, and, separately, one more write than this; beyond it,
    /// requests wait and free slots go to keys in turn (see `FairQueue`). Default: 1 (one feed and two
    /// writes at a time), as the engine computes one feed at a time and folds one event batch into its
    /// state while it appends the next to the log.
    public var concurrentRequests: Int

    public init(
        requestsPerSecond: Double = 200, burst: Int = 400, maximumBodyBytes: Int = ForYouAPI.maximumBodyBytes, concurrentRequests: Int = 1
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.maximumBodyBytes = maximumBodyBytes
        self.concurrentRequests = concurrentRequests
    }

    /// The rate and burst for a key: its own rate (bursts of twice as many requests), else the defaults.
    func rate(for key: APIKeyRecord) -> (requestsPerSecond: Double, burst: Int) {
        guard let own = key.limits.requestsPerSecond else { return (requestsPerSecond, burst) }
        return (own, max(1, Int((own * 2).rounded(.up))))
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
    func admit(_ key: APIKeyRecord) -> Double? {
        let (rate, burst) = limits.rate(for: key)
        guard rate > 0 else { return nil }
        let time = now()
        return buckets.withLock { buckets in
            var bucket = buckets[key.id] ?? Bucket(tokens: Double(burst), updated: time)
            bucket.tokens = min(Double(burst), bucket.tokens + (time - bucket.updated) * rate)
            bucket.updated = time
            defer { buckets[key.id] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / rate
        }
    }
}
