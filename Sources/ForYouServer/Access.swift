// SPDX-License-Identifier: Apache-2.0
//
// Authentication and roles. Every /v1 handler but the transparency report calls `check` first with the
// role it needs; `admin` passes every check. Key texts are never logged: the actor is `key:<id>`.

import ForYou
import HTTPTypes
import Hummingbird

/// Who is calling, once `Access.check` let them in.
struct Caller: Sendable {
    /// The actor to audit: `key:<id>`, or `anonymous` while no key exists.
    var actor: String
    /// The largest body this caller may send: the key's own limit, else the server's.
    var maximumBodyBytes: Int
}

struct Access: Sendable {
    let engine: Recommender
    let limiter: RateLimiter

    /// Checks the request's key against the role and its body size limit (on the declared
    /// `Content-Length`; an undeclared body is cut at the same limit when read). The key's rate limit was
    /// applied before, by `PerKeyLimitsMiddleware`.
    /// - Throws: ``ForYouError/Code/unauthenticated`` (401) without a valid key, ``ForYouError/Code/forbidden`` (403)
    ///   with a key of another role, ``ForYouError/Code/payloadTooLarge`` (413) over its body size limit.
    func check(_ request: Request, _ context: some RequestContext, _ role: APIRole) throws -> Caller {
        let route = context.endpointPath ?? ""
        guard engine.requiresAuthentication else {
            let maximum = Self.bodyLimit(for: request, route: route, key: nil, defaults: limiter.limits)
            try Self.checkDeclaredSize(request, limit: maximum, owner: "this server")
            return Caller(actor: "anonymous", maximumBodyBytes: maximum)
        }
        guard let presented = Self.presentedKey(request) else {
            throw ForYouError(.unauthenticated, "this route needs an API key: send `Authorization: Bearer <key>` (create one with `foryou keys create`)")
        }
        guard let key = engine.authenticate(presented) else {
            throw ForYouError(.unauthenticated, "the API key is unknown or revoked")
        }
        guard key.role == role || key.role == .admin else {
            throw ForYouError(.forbidden, "a key with role \(key.role.rawValue) may not use this route; it needs role \(role.rawValue)")
        }
        let maximum = Self.bodyLimit(for: request, route: route, key: key, defaults: limiter.limits)
        try Self.checkDeclaredSize(request, limit: maximum, owner: "key \(key.id)")
        return Caller(actor: "key:\(key.id)", maximumBodyBytes: maximum)
    }

    /// The largest body a request may carry: the key's own limit, else the server's; an algorithm
    /// package may be ``ForYouAPI/packageSizeFactor`` times larger (its weights are big).
    /// - Parameter route: the matched route's template (`context.endpointPath`), whatever the spelling.
    static func bodyLimit(for request: Request, route: String, key: APIKeyRecord?, defaults: RateLimits) -> Int {
        let limit = key?.limits.maximumBodyBytes ?? defaults.maximumBodyBytes
        let isPackage = request.method == .put && route == "/v1/models/package"
        return isPackage ? limit * ForYouAPI.packageSizeFactor : limit
    }

    /// Refuses a declared body over the limit before any of it is read.
    static func checkDeclaredSize(_ request: Request, limit: Int, owner: String) throws {
        guard let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit else { return }
        throw ForYouError(.payloadTooLarge, "the request body is \(declared) bytes; \(owner) may send at most \(limit) bytes per request")
    }

    static func presentedKey(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let prefix = "Bearer "
            return authorization.hasPrefix(prefix) ? String(authorization.dropFirst(prefix.count)) : nil
        }
        return HTTPField.Name("X-API-Key").flatMap { request.headers[$0] }
    }
}
