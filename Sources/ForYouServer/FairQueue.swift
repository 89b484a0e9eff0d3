// SPDX-License-Identifier: Apache-2.0
//
// Fair sharing of the engine between API keys. At most `capacity` requests run at once; when more
// arrive, they wait in one queue per key, and each freed slot goes to the next key in turn (round
// robin), not to whichever request came first. A key flooding from many connections therefore fills its
// own queue only: another key's request waits for at most one request of each busy key, whatever their
// connection counts. Rate limits (RateLimiter) bound how much each key gets over time; this bounds how
// long a quiet key waits behind a noisy one.
//
// There are two queues, one per place where the engine serialises work anyway: reads (GET: feeds are
// computed under the state's mutex) and writes (ingest, upserts, controls: one durable write at a
// time, and one more slot for the event batch being folded into the state meanwhile). A feed never waits behind an fsync, and more slots than the engine can use would only let
// requests queue on its locks in arrival order, where fairness is lost (measured: `foryou bench flood`).

import ForYou
import HTTPTypes
import Hummingbird
import Synchronization

/// Slots handed out round-robin across keys.
final class FairQueue: Sendable {
    private struct State {
        var running = 0
        /// Waiting requests per key, oldest first.
        var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
        /// Keys with waiting requests, in the order they get the next slots.
        var turns: [String] = []
    }
    let capacity: Int
    private let state = Mutex(State())

    /// - Parameter capacity: how many keyed requests run at once (at least 1).
    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// How many requests wait for a slot.
    var waitingCount: Int { state.withLock { $0.waiting.values.reduce(0) { $0 + $1.count } } }

    /// Runs `body` in a slot, waiting for the key's turn when every slot is taken.
    func run<T>(key: String, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        defer { release() }
        return try await body()
    }

    private func acquire(_ key: String) async {
        let admitted = state.withLock { state -> Bool in
            guard state.running < capacity, state.turns.isEmpty else { return false }
            state.running += 1
            return true
        }
        if admitted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // The slot may have been freed between the check and here: take it then.
            let resumeNow = state.withLock { state -> Bool in
                if state.running < capacity && state.turns.isEmpty {
                    state.running += 1
                    return true
                }
                if state.waiting[key, default: []].isEmpty { state.turns.append(key) }
                state.waiting[key, default: []].append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Hands the slot to the next key in turn, or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.turns.isEmpty else {
                state.running -= 1
                return nil
            }
            let key = state.turns.removeFirst()
            var queue = state.waiting[key] ?? []
            let continuation = queue.removeFirst()
            if queue.isEmpty {
                state.waiting[key] = nil
            } else {
                state.waiting[key] = queue
                state.turns.append(key)  // back of the line: every other waiting key goes first
            }
            return continuation
        }
        next?.resume()
    }
}

/// Per-key limits on every /v1 request that presents a valid key: first the key's rate limit (429 with
/// Retry-After, before the request waits for anything), then its turn in the fair queue. Requests
/// without a valid key share one turn; the route's own check answers them 401 or lets them in while no
/// key exists.
///
/// What applies is decided by the route the router matched (`context.endpointPath`, the route's
/// template such as `/v1/users/{user}/feed`), never by the raw path: every spelling the router accepts
/// for a route (`//v1/…`, `/v1//…`, a trailing `/`) gets that route's limits, queue and metrics, and a
/// spelling it does not accept (`/./v1/…`, `/V1/…`, `/v1%2F…`) is a 404 that reaches no engine work.
struct PerKeyLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    let engine: Recommender
    let limiter: RateLimiter
    let reads: FairQueue
    let writes: FairQueue

    init(engine: Recommender, limiter: RateLimiter) {
        self.engine = engine
        self.limiter = limiter
        reads = FairQueue(capacity: limiter.limits.concurrentRequests)
        // One more write: the engine folds one event batch into its state while it appends the next.
        writes = FairQueue(capacity: limiter.limits.concurrentRequests + 1)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let route = context.endpointPath, route.hasPrefix("/v1/") else { return try await next(request, context) }
        guard let key = Access.presentedKey(request).flatMap({ engine.authenticate($0) }) else {
            if Self.isLongRunning(request.method, route: route) { return try await next(request, context) }
            return try await queue(for: request).run(key: "") { try await next(request, context) }
        }
        if let wait = limiter.admit(key) {
            let (rate, burst) = limiter.limits.rate(for: key)
            let shown = rate.rounded() == rate ? String(Int(rate)) : String(rate)
            var error = ForYouError(.rateLimited, "key \(key.id) made more than \(shown) requests per second (burst \(burst)); retry later")
            error.retryAfterSeconds = max(1, Int(wait.rounded(.up)))
            throw error
        }
        // Operations that take seconds (training, erasure, a package install) have their own locks and
        // would hold a slot for all that time: they do not queue.
        if Self.isLongRunning(request.method, route: route) { return try await next(request, context) }
        // A write's body is read before it takes a slot, so a client trickling its bytes holds up only
        // itself (cut at the key's limit: 413).
        var request = request
        if request.method != .get && request.method != .head {
            let limit = Access.bodyLimit(for: request, route: route, key: key, defaults: limiter.limits)
            try Access.checkDeclaredSize(request, limit: limit, owner: "key \(key.id)")
            _ = try await ForYouAPI.collectBody(of: &request, upTo: limit)
        }
        return try await queue(for: request).run(key: key.id) { try await next(request, context) }
    }

    func queue(for request: Request) -> FairQueue {
        request.method == .get || request.method == .head ? reads : writes
    }

    /// - Parameter route: the matched route's template (`context.endpointPath`).
    static func isLongRunning(_ method: HTTPRequest.Method, route: String) -> Bool {
        switch method {
        // The audit log is verified whole; an export reads all of a user's events.
        case .get: return route == "/v1/audit" || route == "/v1/users/{user}/export"
        case .post: return route == "/v1/models/train"
        case .put: return route == "/v1/models/package"
        case .delete: return route == "/v1/users/{user}"
        default: return false
        }
    }
}
