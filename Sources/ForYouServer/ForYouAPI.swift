// SPDX-License-Identifier: Apache-2.0
//
// The HTTP API, a thin shell over `Recommender`: every handler checks the caller's role, decodes, calls
// one engine method and encodes. Routes (JSON, snake_case; the role each needs, admin may do everything):
//
//   PUT    /v1/items                    ingest    upsert a batch of items               → {"upserted":N}
//   POST   /v1/events                   ingest    ingest up to 1000 events              → {"accepted","duplicates","rejected"}
//   GET    /v1/users/{user}/feed        serve     ?count=1...100 &personalized=false &offset=N (&preview=true: admin,
//                                                 computed but not recorded as served)
//   GET    /v1/users/{user}/profile     serve     what the engine believes about the user (top tags, creators)
//   GET    /v1/users/{user}/controls    serve     the user's topics, keyword filters, non-profiled setting
//   PUT    /v1/users/{user}/controls    serve     replace them
//   POST   /v1/users/{user}/reset       serve     "reset my feed": forget the learned profile
//   GET    /v1/users/{user}/export      admin     everything held about the user
//   DELETE /v1/users/{user}             admin     erase the user                        → {"user","erased","events_deleted"}
//   POST   /v1/models/train             admin     ?from_scratch=true: local data alone  → the model
//   PUT    /v1/models/package           admin     install a signed algorithm package    → the model, or a refusal
//   GET    /v1/models/current           overseer  the serving model with provenance and license
//   GET    /v1/models                   overseer  every stored model, newest first, checked as a restart would
//   GET    /v1/audit                    overseer  ?limit=N: chain verification and the latest entries
//   GET    /v1/keys                     admin     the API keys (ids, names, roles; never the keys)
//   POST   /v1/keys                     admin     {"name","role"}: a new key, shown once      → 201
//   DELETE /v1/keys/{id}                admin     revoke a key at once
//   GET    /v1/transparency             anyone    the main ranking parameters, from the live configuration
//   GET    /healthz, /metrics           anyone    liveness and sizes; Prometheus text format
//   GET    /openapi.json                anyone    the OpenAPI 3.1 document of every route (Web/openapi.json)
//   GET    /, /console, /web/{file}     anyone    the feed page and the operator console (they call the API
//                                                 with the key the visitor gives them)
//
// Each key has its own rate limit (token bucket, `serve --rate-limit/--burst`): over it, 429
// `rate_limited` with Retry-After, while other keys are unaffected.
// Keys travel as `Authorization: Bearer fy_…` (or `X-API-Key`). While no key exists in the data folder,
// every route is open (development mode, announced at start); once one exists, every /v1 route but
// /v1/transparency needs a key of the right role (401 `unauthenticated`, 403 `forbidden`).

import ForYou
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Builds the ForYou HTTP application.
public enum ForYouAPI {
    /// The largest request body accepted unless `serve --max-body-bytes` or the key says otherwise: 4 MiB.
    public static let maximumBodyBytes = 4 * 1024 * 1024
    /// How many times larger than the body limit an algorithm package may be (its weights are big).
    static let packageSizeFactor = 16

    /// Reads the body up to `limit` bytes; a larger one is `payload_too_large`, naming the limit.
    static func collectBody(of request: Request, upTo limit: Int) async throws -> ByteBuffer {
        var request = request
        return try await collectBody(of: &request, upTo: limit)
    }

    /// Reads the body up to `limit` bytes and keeps it in `request`, for handlers to read again.
    static func collectBody(of request: inout Request, upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ForYouError(.payloadTooLarge, "the request body must be at most \(limit) bytes")
        }
    }

    /// The router with every route and middleware, for tests (`app.test(.router)`) and the server.
    public static func makeRouter(
        engine: Recommender, metrics: HTTPMetrics = HTTPMetrics(), web: WebPages = WebPages(), limits: RateLimits = RateLimits(),
        clock: (@Sendable () -> Double)? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ForYouErrorMiddleware())
        let limiter = clock.map { RateLimiter(limits, now: $0) } ?? RateLimiter(limits)
        router.add(middleware: PerKeyLimitsMiddleware(engine: engine, limiter: limiter))
        let access = Access(engine: engine, limiter: limiter)

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
        router.get("/v1/transparency") { _, _ in engine.transparencyReport() }
        router.get("/") { _, _ in try web.response(for: "index.html") }
        router.get("/console") { _, _ in try web.response(for: "console.html") }
        router.get("/openapi.json") { _, _ in try web.response(for: "openapi.json") }
        router.get("/web/{file}") { _, context in try web.response(for: try context.parameters.require("file")) }
        router.put("/v1/items") { request, context in
            let caller = try access.check(request, context, .ingest)
            let body = try await decode(ItemBatchRequest.self, from: request, limit: engine.configuration.maximumItemBatch, caller: caller)
            return ItemBatchResponse(upserted: try await engine.upsertItems(body.items.map(\.input)))
        }
        router.get("/v1/items/{item}/statistics") { request, context in
            _ = try access.check(request, context, .serve)
            let raw = try context.parameters.require("item")
            guard let item = raw.removingPercentEncoding else {
                throw ForYouError(.invalidID, "`item` in the path is not valid percent-encoded UTF-8")
            }
            let retention = engine.configuration.itemStatisticsRetentionHours
            let hours = try integer(
                request.uri.queryParameters["hours"].map(String.init), name: "hours", default: min(24, retention), rule: "an integer in 1...\(retention)")
            return ItemStatisticsResponse(try engine.itemStatistics(of: item, hours: hours))
        }
        router.post("/v1/events") { request, context in
            let caller = try access.check(request, context, .ingest)
            let limit = engine.configuration.maximumEventBatch
            let buffer = try await collectBody(of: request, upTo: caller.maximumBodyBytes)
            let events =
                try buffer.withUnsafeReadableBytes { EventBatchFastPath.parse($0, limit: limit) }
                ?? decode(EventBatchRequest.self, from: buffer, limit: limit).events.map(\.input)
            let result = try await engine.ingest(events)
            return EventBatchResponse(
                accepted: result.accepted, duplicates: result.duplicates,
                rejected: result.rejected.map { .init(index: $0.index, id: $0.id, code: $0.code.rawValue, message: $0.message) })
        }
        router.get("/v1/users/{user}/feed") { request, context in
            _ = try access.check(request, context, .serve)
            let user = try userParameter(context)
            let query = request.uri.queryParameters
            let count = try integer(query["count"].map(String.init), name: "count", default: 10, rule: "an integer in 1...\(Recommender.maximumFeedCount)")
            let offset = try integer(query["offset"].map(String.init), name: "offset", default: 0, rule: "an integer in 0...10000")
            let personalized = try boolean(query["personalized"].map(String.init), name: "personalized", default: true)
            let preview = try boolean(query["preview"].map(String.init), name: "preview", default: false)
            if preview { _ = try access.check(request, context, .admin) }
            let feed = try await engine.feed(for: user, count: count, personalized: personalized, offset: offset, record: !preview)
            return FeedResponse(feed, items: engine.items(of: feed))
        }
        router.get("/v1/users/{user}/profile") { request, context in
            _ = try access.check(request, context, .serve)
            let user = try userParameter(context)
            return ProfileResponse(user: user, try engine.profile(of: user))
        }
        router.get("/v1/users/{user}/controls") { request, context in
            _ = try access.check(request, context, .serve)
            return ControlsBody(try engine.controls(of: try userParameter(context)))
        }
        router.put("/v1/users/{user}/controls") { request, context in
            let caller = try access.check(request, context, .serve)
            let actor = caller.actor
            let user = try userParameter(context)
            let body = try await decode(ControlsBody.self, from: request, limit: 1, caller: caller)
            return ControlsBody(try await engine.setControls(of: user, to: try body.controls(), actor: actor))
        }
        router.post("/v1/users/{user}/reset") { request, context in
            let actor = try access.check(request, context, .serve).actor
            let user = try userParameter(context)
            try await engine.resetProfile(of: user, actor: actor)
            return ResetResponse(user: user, reset: true)
        }
        router.get("/v1/users/{user}/export") { request, context in
            let actor = try access.check(request, context, .admin).actor
            return ExportResponse(try await engine.export(user: try userParameter(context), actor: actor))
        }
        router.delete("/v1/users/{user}") { request, context in
            let actor = try access.check(request, context, .admin).actor
            let user = try userParameter(context)
            let erasure = try await engine.eraseUser(user, actor: actor)
            return ErasureResponse(user: user, erased: true, eventsDeleted: erasure.events, model: .init(erasure.model))
        }
        router.post("/v1/models/train") { request, context in
            let actor = try access.check(request, context, .admin).actor
            let fromScratch = try boolean(request.uri.queryParameters["from_scratch"].map(String.init), name: "from_scratch", default: false)
            let info = try await engine.train(fromScratch: fromScratch, actor: actor) { context.logger.info("\($0)") }
            context.logger.notice("model \(info.version) trained on \(info.events) events and swapped in")
            return ModelResponse(info)
        }
        router.put("/v1/models/package") { request, context in
            let caller = try access.check(request, context, .admin)
            let actor = caller.actor
            let bytes = try await collectBody(of: request, upTo: caller.maximumBodyBytes)
            do {
                let info = try await engine.installPackage(Array(bytes.readableBytesView), actor: actor)
                context.logger.notice("algorithm package \(info.packageID ?? "?") installed: serving \(info.version)")
                return ModelResponse(info)
            } catch let error as ForYouError {
                context.logger.warning("algorithm package refused: \(error.code): \(error.message)")
                throw error
            }
        }
        router.get("/v1/models/current") { request, context in
            _ = try access.check(request, context, .overseer)
            guard let info = engine.currentModel else {
                throw ForYouError(.notFound, "no model has been trained yet (feeds use \(Recommender.modelVersion)); POST /v1/models/train")
            }
            return ModelResponse(info)
        }
        router.get("/v1/models") { request, context in
            _ = try access.check(request, context, .overseer)
            return ModelListResponse(try await engine.storedModels())
        }
        router.get("/v1/keys") { request, context in
            _ = try access.check(request, context, .admin)
            return KeyListResponse(keys: try await engine.apiKeys().map { KeyResponse($0) })
        }
        router.post("/v1/keys") { request, context -> EditedResponse<KeyResponse> in
            let caller = try access.check(request, context, .admin)
            let actor = caller.actor
            let body = try await decode(KeyRequest.self, from: request, limit: 1, caller: caller)
            guard let role = APIRole(rawValue: body.role) else {
                throw ForYouError(.invalidValue, "`role` must be one of \(APIRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let limits = APIKeyLimits(requestsPerSecond: body.rateLimit, maximumBodyBytes: body.maxBodyBytes)
            let created = try await engine.createAPIKey(name: body.name, role: role, limits: limits, actor: actor)
            context.logger.notice("API key \(created.record.id) (\(role.rawValue)) created by \(actor)")
            return EditedResponse(status: .created, response: KeyResponse(created.record, key: created.key))
        }
        router.delete("/v1/keys/{id}") { request, context in
            let actor = try access.check(request, context, .admin).actor
            let id = try context.parameters.require("id")
            try await engine.revokeAPIKey(id: id, actor: actor)
            return KeyResponse(try await engine.apiKeys().first { $0.id == id }!)
        }
        router.get("/v1/audit") { request, context in
            _ = try access.check(request, context, .overseer)
            let limit = try integer(request.uri.queryParameters["limit"].map(String.init), name: "limit", default: 100, rule: "an integer in 1...10000")
            guard (1...10_000).contains(limit) else { throw ForYouError(.invalidArgument, "`limit` must be an integer in 1...10000") }
            let (lines, verification) = try await engine.auditLog()
            return AuditResponse(
                intact: verification.isIntact, entries: lines.count, headHash: verification.headHash, problem: verification.problem,
                latest: lines.suffix(limit).compactMap { AuditChain.parse($0).map { AuditResponse.Line(entry: $0.entry, hash: $0.hash) } })
        }
        refuseOtherMethods(on: router)
        return router
    }

    /// The routes and the methods each accepts.
    static let routes: [(path: RouterPath, methods: [HTTPRequest.Method])] = [
        ("/healthz", [.get]), ("/metrics", [.get]), ("/v1/transparency", [.get]), ("/", [.get]), ("/console", [.get]), ("/web/{file}", [.get]),
        ("/openapi.json", [.get]),
        ("/v1/users/{user}/profile", [.get]), ("/v1/items", [.put]), ("/v1/items/{item}/statistics", [.get]), ("/v1/events", [.post]),
        ("/v1/users/{user}/feed", [.get]), ("/v1/users/{user}/controls", [.get, .put]), ("/v1/users/{user}/reset", [.post]),
        ("/v1/users/{user}/export", [.get]), ("/v1/users/{user}", [.delete]), ("/v1/models/train", [.post]),
        ("/v1/models/package", [.put]), ("/v1/models/current", [.get]), ("/v1/models", [.get]), ("/v1/keys", [.get, .post]), ("/v1/keys/{id}", [.delete]), ("/v1/audit", [.get]),
    ]

    /// Answers a known path with the wrong method with 405 `method_not_allowed` (naming the right ones)
    /// rather than 404.
    private static func refuseOtherMethods(on router: Router<BasicRequestContext>) {
        let all: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]
        for (path, allowed) in routes {
            let names = allowed.map(\.rawValue).joined(separator: " or ")
            for method in all where !allowed.contains(method) {
                router.on(path, method: method) { request, _ -> Response in
                    throw ForYouError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path); use \(names)")
                }
            }
        }
    }

    /// An optional integer query parameter.
    private static func integer(_ raw: String?, name: String, default value: Int, rule: String) throws -> Int {
        guard let raw else { return value }
        guard let parsed = Int(raw) else { throw ForYouError(.invalidArgument, "`\(name)` must be \(rule)") }
        return parsed
    }

    /// An optional `true`/`false` query parameter.
    private static func boolean(_ raw: String?, name: String, default value: Bool) throws -> Bool {
        switch raw {
        case nil: return value
        case "true": return true
        case "false": return false
        default: throw ForYouError(.invalidArgument, "`\(name)` must be true or false")
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

    /// Reads at most the caller's body limit and decodes JSON, turning decoding failures into `invalid_json`.
    static func decode<Body: Decodable>(_ type: Body.Type, from request: Request, limit: Int, caller: Caller) async throws -> Body {
        try decode(type, from: try await collectBody(of: request, upTo: caller.maximumBodyBytes), limit: limit)
    }

    /// Decodes JSON read already, turning decoding failures into `invalid_json`.
    static func decode<Body: Decodable>(_ type: Body.Type, from buffer: ByteBuffer, limit: Int) throws -> Body {
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
            return "`\(where_.isEmpty ? "body" : where_)` must be \(jsonKind(of: type))"
        case .dataCorrupted:
            return "the request body is not valid JSON"
        @unknown default:
            return "the request body does not have the documented shape"
        }
    }

    /// The JSON kind a Swift type decodes from, for error messages.
    private static func jsonKind(of type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array<") { return "an array" }
        if name.hasPrefix("Dictionary<") { return "an object" }
        switch name {
        case "String": return "a string"
        case "Bool": return "true or false"
        case "Int", "Int64", "Int32", "UInt64": return "an integer"
        case "Double", "Float": return "a number"
        default: return "a JSON object of the documented shape"
        }
    }

    /// The application serving the API on `host:port`, with the connection limits and timeouts of
    /// `connections` (see ``ConnectionGuard``).
    /// - Parameter onReady: called once the server accepts connections, with the bound port.
    public static func makeApplication(
        engine: Recommender, host: String, port: Int, logger: Logger, web: WebPages = WebPages(), limits: RateLimits = RateLimits(),
        connections: ConnectionLimits = ConnectionLimits(), metrics: HTTPMetrics = HTTPMetrics(),
        onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let counts = metrics.connections
        return Application(
            router: makeRouter(engine: engine, metrics: metrics, web: web, limits: limits),
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(limits: connections, counts: counts)])),
            configuration: .init(address: .hostname(host, port: port), serverName: "foryou"),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
