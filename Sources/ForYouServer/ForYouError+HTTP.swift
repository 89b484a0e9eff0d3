// SPDX-License-Identifier: Apache-2.0
//
// The one place where engine errors become HTTP responses. Every error the API returns has the shape
// {"error":{"code":"...","message":"..."}} with a stable snake_case code.

import ForYou
import HTTPTypes
import Hummingbird

extension ForYouError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .contentTooLarge
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .rateLimited: .tooManyRequests
        case .packageMalformed, .packageTampered, .signatureInvalid, .licenseExpired, .licenseNotYetValid, .licenseWrongJurisdiction,
            .licenseUseNotPermitted:
            .unprocessableContent
        default: .badRequest
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(
            ErrorBody(error: .init(code: code.rawValue, message: message)), from: request, context: context)
        response.status = status
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return response
    }
}

/// The JSON body of every error response.
struct ErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var code: String
        var message: String
    }
    var error: Detail
}
