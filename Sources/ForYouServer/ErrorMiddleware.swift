// SPDX-License-Identifier: Apache-2.0

import ForYou
import Hummingbird
import Logging
import NIOCore

/// Turns every failure into a ``ForYouError`` so that all error responses share one shape: Hummingbird's
/// own `HTTPError`s (unknown route, bad method), an oversized body, and anything unexpected, which is
/// logged and answered as `internal` without details.
struct ForYouErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ForYouError {
            if error.code == .internal || error.code == .unavailable {
                context.logger.error("request failed", metadata: ["error": "\(error)"])
            }
            throw error
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: throw ForYouError(.notFound, "no route for \(request.method) \(request.uri.path)")
            case .methodNotAllowed: throw ForYouError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path)")
            case .contentTooLarge: throw ForYouError(.payloadTooLarge, error.body ?? "the request body is too large")
            default:
                let code: ForYouError.Code = error.status.code < 500 ? .invalidArgument : .internal
                throw ForYouError(code, error.body ?? error.status.reasonPhrase)
            }
        } catch is NIOTooManyBytesError {
            throw ForYouError(
                .payloadTooLarge,
                "the request body is larger than this server or this key accepts (serve --max-body-bytes, default \(ForYouAPI.maximumBodyBytes) bytes)")
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            throw ForYouError(.internal, "internal error")
        }
    }
}
