// SPDX-License-Identifier: Apache-2.0
//
// Request counts and latency histograms per route, rendered in the Prometheus text exposition format
// (version 0.0.4). Kept in-house: a mutex and two dictionaries cost less than a metrics backend, and
// the route label is the route template (`/v1/users/{user}/feed`), so user ids never become labels.

import ForYou
import Hummingbird
import Synchronization

/// The server's metrics registry.
public final class HTTPMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private struct RouteKey: Hashable, Comparable {
        var method: String
        var route: String
        static func < (a: Self, b: Self) -> Bool { (a.route, a.method) < (b.route, b.method) }
    }
    private struct Histogram {
        var counts = [Int](repeating: 0, count: HTTPMetrics.buckets.count)
        var total = 0
        var sum = 0.0
    }
    private struct State {
        var requests: [RouteKey: [Int: Int]] = [:]
        var latency: [RouteKey: Histogram] = [:]
    }
    private let state = Mutex(State())
    /// What ``ConnectionGuard`` did to connections.
    public let connections = ConnectionCounts()

    public init() {}

    /// Records one finished request.
    func record(method: String, route: String, status: Int, seconds: Double) {
        let key = RouteKey(method: method, route: route)
        state.withLock { s in
            s.requests[key, default: [:]][status, default: 0] += 1
            var histogram = s.latency[key] ?? Histogram()
            if let bucket = Self.buckets.firstIndex(where: { seconds <= $0 }) { histogram.counts[bucket] += 1 }
            histogram.total += 1
            histogram.sum += seconds
            s.latency[key] = histogram
        }
    }

    /// The metrics in Prometheus text format, with the engine's counters.
    func render(_ statistics: Recommender.Statistics) -> String {
        let s = state.withLock { $0 }
        var out = "# HELP foryou_http_requests_total HTTP requests by route, method and status.\n"
        out += "# TYPE foryou_http_requests_total counter\n"
        for key in s.requests.keys.sorted() {
            for (status, count) in s.requests[key]!.sorted(by: { $0.key < $1.key }) {
                out += "foryou_http_requests_total{method=\"\(key.method)\",route=\"\(key.route)\",status=\"\(status)\"} \(count)\n"
            }
        }
        out += "# HELP foryou_http_request_duration_seconds HTTP request latency by route and method.\n"
        out += "# TYPE foryou_http_request_duration_seconds histogram\n"
        for key in s.latency.keys.sorted() {
            let histogram = s.latency[key]!
            let labels = "method=\"\(key.method)\",route=\"\(key.route)\""
            var cumulative = 0
            for (bound, count) in zip(Self.buckets, histogram.counts) {
                cumulative += count
                out += "foryou_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "foryou_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(histogram.total)\n"
            out += "foryou_http_request_duration_seconds_sum{\(labels)} \(histogram.sum)\n"
            out += "foryou_http_request_duration_seconds_count{\(labels)} \(histogram.total)\n"
        }
        let counters: [(String, String, Int)] = [
            ("foryou_events_ingested_total", "Events accepted and stored durably.", statistics.eventsAccepted),
            ("foryou_events_duplicate_total", "Events resent with an id already stored.", statistics.eventsDuplicate),
            ("foryou_events_rejected_total", "Events refused by validation.", statistics.eventsRejected),
            ("foryou_items_upserted_total", "Items inserted or replaced.", statistics.itemsUpserted),
            ("foryou_feed_requests_total", "Feeds served.", statistics.feedsServed),
            ("foryou_users_erased_total", "Users erased.", statistics.usersErased),
            ("foryou_refused_wrong_jurisdiction_total", "Items and events refused because they belong to another jurisdiction.", statistics.refusedWrongJurisdiction),
            ("foryou_packages_refused_total", "Algorithm packages refused at install.", statistics.packagesRefused),
            (
                "foryou_served_history_write_failures_total", "Feeds answered although their served history could not be written (disk full).",
                statistics.servedHistoryWriteFailures
            ),
        ]
        for (name, help, value) in counters {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        out += "# HELP foryou_user_vectors_folded_in_total User vectors folded in for indexed retrieval.\n# TYPE foryou_user_vectors_folded_in_total counter\n"
        out += "foryou_user_vectors_folded_in_total \(statistics.userVectorFoldIns)\n"
        out += "# HELP foryou_user_vectors_expired_total User vectors dropped after going unused for the expiry.\n# TYPE foryou_user_vectors_expired_total counter\n"
        out += "foryou_user_vectors_expired_total \(statistics.userVectorsExpired)\n"
        out += "# HELP foryou_fresh_item_vectors Items the model does not know that hold a collaborative vector from their engagers.\n# TYPE foryou_fresh_item_vectors gauge\n"
        out += "foryou_fresh_item_vectors \(statistics.freshItemVectors)\n"
        out += "# HELP foryou_fresh_item_refits_total Collaborative vectors computed for items the serving model does not know.\n# TYPE foryou_fresh_item_refits_total counter\n"
        out += "foryou_fresh_item_refits_total \(statistics.freshItemRefits)\n"
        out += "# HELP foryou_item_statistics_entries Items' hourly statistics held (one per item and hour within the retention).\n# TYPE foryou_item_statistics_entries gauge\n"
        out += "foryou_item_statistics_entries \(statistics.itemStatisticsEntries)\n"
        out += "# HELP foryou_users_held Users whose state the engine holds.\n# TYPE foryou_users_held gauge\n"
        out += "foryou_users_held \(statistics.usersHeld)\n"
        out += "# HELP foryou_users_expired_total Users whose learned profile expired after being idle.\n# TYPE foryou_users_expired_total counter\n"
        out += "foryou_users_expired_total \(statistics.usersExpired)\n"
        out += "# HELP foryou_connections_open HTTP connections open now.\n# TYPE foryou_connections_open gauge\n"
        out += "foryou_connections_open \(connections.openNow)\n"
        out += "# HELP foryou_connections_refused_total Connections refused for being over the connection limit.\n# TYPE foryou_connections_refused_total counter\n"
        out += "foryou_connections_refused_total \(connections.refusedTotal)\n"
        out += "# HELP foryou_connections_timed_out_total Connections closed at their header, body or idle deadline.\n# TYPE foryou_connections_timed_out_total counter\n"
        out += "foryou_connections_timed_out_total \(connections.timedOutTotal)\n"
        out += "# HELP foryou_user_vectors User vectors held now.\n# TYPE foryou_user_vectors gauge\nforyou_user_vectors \(statistics.userVectorsHeld)\n"
        return out
    }
}

/// Times every request and records it in ``HTTPMetrics`` under its route template.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func seconds() -> Double { (ContinuousClock.now - start).inSeconds }
        do {
            let response = try await next(request, context)
            metrics.record(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code, seconds: seconds())
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status, seconds: seconds())
            throw error
        }
    }
}
