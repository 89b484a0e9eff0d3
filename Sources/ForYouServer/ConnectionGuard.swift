// SPDX-License-Identifier: Apache-2.0
//
// Connections a client cannot hold forever. Every connection gets three deadlines, one at a time:
//
//   header   from the moment it opens until its first request's head is complete (slow headers);
//   body     from a request's head until its body has been received (a trickled body);
//   idle     from the last response until the next request's head is complete (keep-alive).
//
// While a request is being handled (training may take minutes) no deadline runs. A connection past its
// deadline is closed. Beyond `maximumConnections` open at once, a new connection's first request is
// answered 503 `too_many_connections` with Retry-After and the connection closed; one that sends nothing
// is closed at its header deadline like any other; beyond the limit by more than `refusalMargin` a
// connection is closed at once, so refusals cannot themselves exhaust the descriptors. `serve` keeps the
// limit below the process's file-descriptor limit, so the store and the audit log always have
// descriptors to write with.
//
// The handler sits after HTTP decoding (it sees request and response parts) and runs on the
// connection's event loop: its state needs no lock. The open count is shared, atomic.

import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Connection limits and timeouts (`serve --max-connections`, `--header-timeout`, `--body-timeout`,
/// `--idle-timeout`).
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections open at once; beyond it, refused with 503. Default: 10,000 (`serve` lowers it to the
    /// file-descriptor limit less 256 when that is smaller).
    public var maximumConnections: Int
    /// Seconds a new connection has to send a complete request head. Default: 10.
    public var headerTimeoutSeconds: Double
    /// Seconds a request has to send its whole body once its head arrived. Default: 60 (a 64 MiB package
    /// at 10 Mbit/s takes 54 s).
    public var bodyTimeoutSeconds: Double
    /// Seconds a keep-alive connection may wait for its next request's head. Default: 30.
    public var idleTimeoutSeconds: Double

    public init(maximumConnections: Int = 10_000, headerTimeoutSeconds: Double = 10, bodyTimeoutSeconds: Double = 60, idleTimeoutSeconds: Double = 30) {
        self.maximumConnections = maximumConnections
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    /// Connections beyond the limit that are still answered 503 before any is closed unanswered.
    var refusalMargin: Int { max(64, maximumConnections / 10) }

    /// The accepted range of each timeout, in seconds.
    public static let timeoutRange: ClosedRange<Double> = 0.1...3600
    /// The accepted range of the connection limit.
    public static let connectionsRange: ClosedRange<Int> = 1...1_000_000
}

/// What happened to connections, for `/metrics`.
public final class ConnectionCounts: Sendable {
    let open = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
    let timedOut = Atomic<Int>(0)

    public init() {}

    /// Connections open now.
    public var openNow: Int { open.load(ordering: .relaxed) }
    /// Connections refused (503 or closed at once) for being over the limit.
    public var refusedTotal: Int { refused.load(ordering: .relaxed) }
    /// Connections closed at a header, body or idle deadline.
    public var timedOutTotal: Int { timedOut.load(ordering: .relaxed) }
}

/// Enforces ``ConnectionLimits`` on one connection.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private let counts: ConnectionCounts
    private var deadline: Scheduled<Void>?
    private var counted = false
    private var refusing = false
    private var refusalSent = false
    /// Requests whose head arrived and whose response has not ended.
    private var inFlight = 0
    private var readingBody = false

    init(limits: ConnectionLimits, counts: ConnectionCounts) {
        self.limits = limits
        self.counts = counts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let open = counts.open.wrappingAdd(1, ordering: .relaxed).newValue
        counted = true
        if open > limits.maximumConnections {
            counts.refused.wrappingAdd(1, ordering: .relaxed)
            if open > limits.maximumConnections + limits.refusalMargin {
                context.close(promise: nil)
                return
            }
            refusing = true
        }
        arm(context, seconds: limits.headerTimeoutSeconds)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    /// Frees this connection's place (once) and its deadline.
    private func release() {
        disarm()
        if counted {
            counted = false
            counts.open.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing {  // whatever a refused connection sends is dropped; its first head is answered 503
            if case .head = unwrapInboundIn(data), !refusalSent { refuse(context) }
            return
        }
        switch unwrapInboundIn(data) {
        case .head:
            inFlight += 1
            readingBody = true
            arm(context, seconds: limits.bodyTimeoutSeconds)
        case .body:
            break
        case .end:
            readingBody = false
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            inFlight = max(0, inFlight - 1)
            if inFlight == 0 && !readingBody { arm(context, seconds: limits.idleTimeoutSeconds) }
        }
        context.write(data, promise: promise)
    }

    /// Answers 503 `too_many_connections` and closes.
    private func refuse(_ context: ChannelHandlerContext) {
        refusalSent = true
        disarm()
        let message = "the server holds its limit of \(limits.maximumConnections) connections; retry later"
        let body = ByteBuffer(string: #"{"error":{"code":"too_many_connections","message":"\#(message)"}}"#)
        var fields: HTTPFields = [.contentType: "application/json; charset=utf-8", .retryAfter: "1", .connection: "close"]
        fields[.contentLength] = String(body.readableBytes)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .serviceUnavailable, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in channel.close(promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext, seconds: Double) {
        disarm()
        let counts = self.counts
        let channel = context.channel
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64((seconds * 1000).rounded()))) {
            counts.timedOut.wrappingAdd(1, ordering: .relaxed)
            channel.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
