// SPDX-License-Identifier: Apache-2.0

@testable import ForYouServer
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// The connection guard on an embedded channel, with the event loop's time advanced by hand.
struct ConnectionGuardTests {
    private static let limits = ConnectionLimits(maximumConnections: 2, headerTimeoutSeconds: 10, bodyTimeoutSeconds: 60, idleTimeoutSeconds: 30)

    private func connection(_ counts: ConnectionCounts, limits: ConnectionLimits = limits) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(ConnectionGuard(limits: limits, counts: counts))  // as the server does
        return channel
    }

    private let head = HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/users/u/feed"))

    /// A connection that never completes its head is closed at the header deadline, not before.
    @Test func aConnectionThatSendsNoHeadIsClosedAtTheHeaderDeadline() throws {
        let counts = ConnectionCounts()
        let channel = try connection(counts)
        #expect(counts.openNow == 1)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(9_900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
        #expect(counts.timedOutTotal == 1)
        #expect(counts.openNow == 0)
    }

    /// A body must arrive within the body deadline; while the request is handled no deadline runs; after
    /// the response the idle deadline does.
    @Test func bodyAndIdleDeadlinesRunOnlyWhileTheClientOwesBytes() throws {
        let counts = ConnectionCounts()
        let channel = try connection(counts)
        try channel.writeInbound(head)
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1_000))  // a training: no deadline
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        try channel.writeInbound(head)  // the next request on the keep-alive connection
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))  // its body never comes
        #expect(!channel.isActive)
        #expect(counts.timedOutTotal == 1)

        let idle = try connection(counts)
        try idle.writeInbound(head)
        try idle.writeInbound(HTTPRequestPart.end(nil))
        try idle.writeOutbound(HTTPResponsePart.end(nil))
        idle.embeddedEventLoop.advanceTime(by: .seconds(31))
        #expect(!idle.isActive)
        #expect(counts.timedOutTotal == 2)
    }

    /// Beyond the limit a connection's first request is answered 503 `too_many_connections` with
    /// Retry-After and the connection closed, without reaching the server; beyond the margin a connection
    /// is closed at once. Closed connections free their places.
    @Test func connectionsBeyondTheLimitAreRefusedClearly() throws {
        let counts = ConnectionCounts()
        let admitted = try (0..<2).map { _ in try connection(counts) }
        let refused = try connection(counts)
        try refused.writeInbound(head)
        #expect(try refused.readInbound(as: HTTPRequestPart.self) == nil)  // never reaches the server
        guard case .head(let response) = try refused.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response head")
            return
        }
        #expect(response.status == .serviceUnavailable)
        #expect(response.headerFields[.retryAfter] == "1")
        guard case .body(let body) = try refused.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response body")
            return
        }
        #expect(String(buffer: body).contains(#""code":"too_many_connections""#))
        #expect(String(buffer: body).contains("limit of 2 connections"))
        #expect(!refused.isActive)
        #expect(counts.refusedTotal == 1)

        let margin = ConnectionLimits(maximumConnections: 2).refusalMargin
        let held = try (0..<margin).map { _ in try connection(counts) }
        #expect(held.allSatisfy { $0.isActive })
        let beyondMargin = try connection(counts)
        #expect(!beyondMargin.isActive)

        for channel in admitted + held + [refused, beyondMargin] { _ = try channel.finish(acceptAlreadyClosed: true) }
        #expect(counts.openNow == 0)
        let again = try connection(counts)
        try again.writeInbound(head)
        #expect(try again.readInbound(as: HTTPRequestPart.self) != nil)
        _ = try again.finish(acceptAlreadyClosed: true)
    }
}
