// SPDX-License-Identifier: Apache-2.0
//
// The HTTP API, a thin shell over `Recommender`: every handler decodes, calls one engine method and
// encodes. Routes (JSON, snake_case):
//
//   PUT    /v1/items                 upsert a batch of items                → {"upserted":N}
//   POST   /v1/events                ingest up to 1000 events               → {"accepted","duplicates","rejected"}
//   GET    /v1/users/{user}/feed     ?count=1...100 (default 10)            → {"user","model_version","items"}
//   DELETE /v1/users/{user}          erase the user                         → {"user","erased","events_deleted"}
//   POST   /v1/models/train          train on the event log and swap in     → {"model_version",...}
//   GET    /v1/models/current        the model feeds use now                → {"model_version",...}
//   GET    /healthz                  liveness and sizes
//   GET    /metrics                  Prometheus text format

import ForYou
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Builds the ForYou HTTP application.
public enum ForYouAPI {
    /// The largest request body accepted: 4 MiB.
    public static let maximumBodyBytes = 4 * 1024 * 1024

    /// The router with every route and middleware, for tests (`app.test(.router)`) and the server.
    public static func makeRouter(engine: Recommender, metrics: HTTPMetrics = HTTPMetrics()) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ForYouErrorMiddleware())

        router.get("/healthz") { _, _ in
            let sizes = engine.sizes
            return HealthResponse(
                status: "ok", modelVersion: engine.currentModel?.version ?? Recommender.modelVersion, items: sizes.items, users: sizes.users)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render(engine.statistics))))
        }
        router.put("/v1/items") { request, _ in
            let body = try await decode(ItemBatchRequest.self, from: request, limit: engine.configuration.maximumItemBatch)
            return ItemBatchResponse(upserted: try await engine.upsertItems(body.items.map(\.input)))
        }
        router.post("/v1/events") { request, _ in
            let body = try await decode(EventBatchRequest.self, from: request, limit: engine.configuration.maximumEventBatch)
            let result = try await engine.ingest(body.events.map(\.input))
            return EventBatchResponse(
                accepted: result.accepted, duplicates: result.duplicates,
                rejected: result.rejected.map { .init(index: $0.index, id: $0.id, code: $0.code.rawValue, message: $0.message) })
        }
        router.get("/v1/users/{user}/feed") { request, context in
            let user = try userParameter(context)
            var count = 10
            if let raw = request.uri.queryParameters["count"] {
                guard let parsed = Int(String(raw)) else {
                    throw ForYouError(.invalidArgument, "`count` must be an integer in 1...\(Recommender.maximumFeedCount)")
                }
                count = parsed
            }
            let feed = try await engine.feed(for: user, count: count)
            return FeedResponse(
                user: feed.user.rawValue, modelVersion: feed.modelVersion,
                items: feed.entries.map { .init(item: $0.item.rawValue, score: $0.score, reason: $0.reason.sentence, source: $0.reason.source) })
        }
        router.post("/v1/models/train") { _, context in
            let info = try await engine.train { context.logger.info("\($0)") }
            context.logger.notice("model \(info.version) trained on \(info.events) events and swapped in")
            return ModelResponse(info)
        }
        router.get("/v1/models/current") { _, _ in
            guard let info = engine.currentModel else {
                throw ForYouError(.notFound, "no model has been trained yet (feeds use \(Recommender.modelVersion)); POST /v1/models/train")
            }
            return ModelResponse(info)
        }
        router.delete("/v1/users/{user}") { _, context in
            let user = try userParameter(context)
            let deleted = try await engine.erase(user: user)
            return ErasureResponse(user: user, erased: true, eventsDeleted: deleted)
        }
        refuseOtherMethods(on: router)
        return router
    }

    /// The routes and the one method each accepts.
    static let routes: [(path: RouterPath, method: HTTPRequest.Method)] = [
        ("/healthz", .get), ("/metrics", .get), ("/v1/items", .put), ("/v1/events", .post),
        ("/v1/users/{user}/feed", .get), ("/v1/users/{user}", .delete), ("/v1/models/train", .post), ("/v1/models/current", .get),
    ]

    /// Answers a known path with the wrong method with 405 `method_not_allowed` (naming the right one)
    /// rather than 404.
    private static func refuseOtherMethods(on router: Router<BasicRequestContext>) {
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]
        for (path, allowed) in routes {
            for method in methods where method != allowed {
                router.on(path, method: method) { request, _ -> Response in
                    throw ForYouError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path); use \(allowed)")
                }
            }
        }
    }

    /// The `{user}` path segment, percent-decoded.
    private static func userParameter(_ context: BasicRequestContext) throws -> String {
        let raw = try context.parameters.require("user")
        guard let decoded = raw.removingPercentEncoding else {
            throw ForYouError(.invalidID, "`user` in the path is not valid percent-encoded UTF-8")
        }
        return decoded
    }

    /// Reads at most ``maximumBodyBytes`` and decodes JSON, turning decoding failures into `invalid_json`.
    static func decode<Body: Decodable>(_ type: Body.Type, from request: Request, limit: Int) async throws -> Body {
        var request = request
        let buffer = try await request.collectBody(upTo: maximumBodyBytes)
        let decoder = JSONDecoder()
        decoder.userInfo[.batchLimit] = limit
        do {
            return try decoder.decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw ForYouError(.invalidJSON, describe(error))
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop(while: { $0 == "." }).description
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "`\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)` is required"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let where_ = path(context.codingPath)
            return "`\(where_.isEmpty ? "body" : where_)` must be \(type is any Collection.Type ? "an array" : "of type \(type)")"
        case .dataCorrupted:
            return "the request body is not valid JSON"
        @unknown default:
            return "the request body does not have the documented shape"
        }
    }

    /// The application serving the API on `host:port`.
    /// - Parameter onReady: called once the server accepts connections, with the bound port.
    public static func makeApplication(
        engine: Recommender, host: String, port: Int, logger: Logger, onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(engine: engine),
            configuration: .init(address: .hostname(host, port: port), serverName: "foryou"),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
