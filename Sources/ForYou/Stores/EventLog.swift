// SPDX-License-Identifier: Apache-2.0

/// The append-only, durable log of engagement events. Event ids are unique: appending an id the log
/// already holds stores nothing and reports a duplicate.
///
/// Durability rule: when ``append(_:)`` returns, every event it reported as new survives a crash of
/// the process and a power loss of the machine.
public protocol EventLog: Sendable {
    /// Appends events in one atomic, durable write.
    /// - Returns: for each event, in order, `true` when it was stored and `false` when its id was
    ///   already in the log (including earlier in the same batch).
    /// - Complexity: O(n log N).
    func append(_ events: [Event]) async throws -> [Bool]
    /// Up to `limit` events in append order, starting after `position` (`0` for the beginning).
    func page(after position: Int64, limit: Int) async throws -> EventLogPage
    /// Every event of one user, in append order.
    /// - Complexity: up to O(E) for E logged events: the embedded store scans its log (it serves
    ///   exports and erasures, which are rare; keeping an index on users made every append slower).
    func events(of user: UserID) async throws -> [Event]
    /// How many events the log holds.
    func count() async throws -> Int
    /// Deletes every event of `user`; returns how many were deleted. An erased event's id is new again.
    /// - Complexity: up to O(E), as ``events(of:)``.
    func eraseEvents(of user: UserID) async throws -> Int
}

/// A slice of the event log, for replaying it in bounded memory.
public struct EventLogPage: Sendable {
    /// The events, in append order.
    public var events: [Event]
    /// The position to pass to the next ``EventLog/page(after:limit:)`` call.
    public var lastPosition: Int64
    public init(events: [Event], lastPosition: Int64) {
        self.events = events
        self.lastPosition = lastPosition
    }
}
