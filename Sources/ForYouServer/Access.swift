// SPDX-License-Identifier: Apache-2.0
//
// Authentication and roles. Every /v1 handler but the transparency report calls `check` first with the
// role it needs; `admin` passes every check. Key texts are never logged: the actor is `key:<id>`.

import ForYou
import HTTPTypes
import Hummingbird

struct Access: Sendable {
    let engine: Recommender
    let limiter: RateLimiter

    /// Checks the request's key against the role; returns the actor to audit (`key:<id>`, or
    /// `anonymous` while no key exists).
    /// - Throws: ``ForYouError/Code/unauthenticated`` (401) without a valid key, ``ForYouError/Code/forbidden`` (403)
    ///   with a key of another role.
    func check(_ request: Request, _ role: APIRole) throws -> String {
        guard engine.requiresAuthentication else { return "anonymous" }
        guard let presented = Self.presentedKey(request) else {
            throw ForYouError(.unauthenticated, "this route needs an API key: send `Authorization: Bearer <key>` (create one with `foryou keys create`)")
        }
        guard let key = engine.authenticate(presented) else {
            throw ForYouError(.unauthenticated, "the API key is unknown or revoked")
        }
        guard key.role == role || key.role == .admin else {
            throw ForYouError(.forbidden, "a key with role \(key.role.rawValue) may not use this route; it needs role \(role.rawValue)")
        }
        if let wait = limiter.admit(key.id) {
            var error = ForYouError(
                .rateLimited,
                "key \(key.id) made more than \(limiter.limits.requestsPerSecond.rounded() == limiter.limits.requestsPerSecond ? String(Int(limiter.limits.requestsPerSecond)) : String(limiter.limits.requestsPerSecond)) requests per second (burst \(limiter.limits.burst)); retry later")
            error.retryAfterSeconds = max(1, Int(wait.rounded(.up)))
            throw error
        }
        return "key:\(key.id)"
    }

    static func presentedKey(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let prefix = "Bearer "
            return authorization.hasPrefix(prefix) ? String(authorization.dropFirst(prefix.count)) : nil
        }
        return HTTPField.Name("X-API-Key").flatMap { request.headers[$0] }
    }
}
