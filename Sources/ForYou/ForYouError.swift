// SPDX-License-Identifier: Apache-2.0
// ForYou: a self-hosted "For You" feed engine.

/// The one error type thrown by the engine and its stores.
///
/// Callers branch on ``code``, never on ``message``. Messages name the field and the rule that was
/// broken; they never carry user data. The HTTP layer maps codes to statuses in one place
/// (`ForYouError+HTTP.swift` in ForYouServer).
public struct ForYouError: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable classification of a failure (snake_case on the wire).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The wire form, for example `invalid_argument`.
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // MARK: - Request-level codes

        /// A request parameter or body field breaks a documented rule.
        public static let invalidArgument = Code("invalid_argument")
        /// The request body is not valid JSON or does not have the documented shape.
        public static let invalidJSON = Code("invalid_json")
        /// The request body is larger than the server accepts.
        public static let payloadTooLarge = Code("payload_too_large")
        /// The route, user, item or model does not exist.
        public static let notFound = Code("not_found")
        /// The route exists but not for this HTTP method.
        public static let methodNotAllowed = Code("method_not_allowed")
        /// The resource is in use, for example a data folder opened by another process.
        public static let conflict = Code("conflict")
        /// The engine cannot answer now (storage failure, shutting down); retrying later may succeed.
        public static let unavailable = Code("unavailable")
        /// A bug or an unexpected failure; details are in the server log only.
        public static let `internal` = Code("internal")

        // MARK: - Record-level codes (a rejected event or item in a batch)

        /// A required field is absent.
        public static let missingField = Code("missing_field")
        /// The record has a field the API does not know (often a typo, such as `timestamp` for `at`).
        public static let unknownField = Code("unknown_field")
        /// An identifier is empty, longer than 256 bytes, or contains control characters.
        public static let invalidID = Code("invalid_id")
        /// The event `type` is not one of the documented types.
        public static let unknownType = Code("unknown_type")
        /// A number is negative, absurdly large, or of the wrong JSON type.
        public static let invalidValue = Code("invalid_value")
        /// A timestamp is not RFC 3339 or lies before 1970.
        public static let invalidTimestamp = Code("invalid_timestamp")
        /// A timestamp lies more than the allowed skew (one day) in the future.
        public static let timestampInFuture = Code("timestamp_in_future")
        /// The event names an item that was never upserted.
        public static let unknownItem = Code("unknown_item")
        /// The record belongs to another jurisdiction than the deployment's; it is counted, never stored.
        public static let wrongJurisdiction = Code("wrong_jurisdiction")

        // MARK: - Access

        /// The request carries no API key, or one that is unknown or revoked.
        public static let unauthenticated = Code("unauthenticated")
        /// The API key's role does not allow this route.
        public static let forbidden = Code("forbidden")
        /// The API key made more requests than its rate limit allows; retry after ``ForYouError/retryAfterSeconds``.
        public static let rateLimited = Code("rate_limited")

        // MARK: - Algorithm packages (each refusal has its own code; nothing is installed)

        /// The package file is not a ForYou algorithm package, or is truncated or inconsistent.
        public static let packageMalformed = Code("package_malformed")
        /// The weights do not match the digest the signed manifest gives for them.
        public static let packageTampered = Code("package_tampered")
        /// The package is unsigned, or its signature does not verify against a configured licensor key.
        public static let signatureInvalid = Code("signature_invalid")
        /// The license's validity period has ended.
        public static let licenseExpired = Code("license_expired")
        /// The license's validity period has not started.
        public static let licenseNotYetValid = Code("license_not_yet_valid")
        /// The license does not cover this deployment's jurisdiction.
        public static let licenseWrongJurisdiction = Code("license_wrong_jurisdiction")
        /// The license does not permit this use (for example `serve`).
        public static let licenseUseNotPermitted = Code("license_use_not_permitted")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong and how to fix it. Never contains user data.
    public var message: String
    /// The underlying failure (for example a SQLite error), for logs; clients never see it.
    public var cause: (any Error)?
    /// When retrying makes sense, after how many seconds (sent as `Retry-After`).
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(code): \(message) (cause: \(cause))" }
        return "\(code): \(message)"
    }
}
