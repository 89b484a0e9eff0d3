// SPDX-License-Identifier: Apache-2.0

/// What kind of data another process (or this one) changed in a shared store.
public enum StoreChange: String, Sendable, CaseIterable {
    /// Events were appended.
    case events
    /// Items were upserted.
    case items
    /// A model was saved or models were deleted.
    case models
    /// An API key was created or revoked.
    case keys
    /// A user's controls changed.
    case controls
    /// A user was erased.
    case erasure
}

/// A store several engine processes use at once (for example one PostgreSQL database behind several
/// servers). Each process keeps its derived state in memory, so it follows what the others write:
/// ``Recommender/followChanges(of:pollInterval:)`` reads ``changes()`` and applies them.
///
/// Contract, beyond ``ForYouStore``'s:
/// - event positions grow in commit order, so a reader paging with ``EventLog/page(after:limit:)``
///   never skips an event committed after it read a later one;
/// - ``appendAuditLine(_:)`` refuses, with ``ForYouError/Code/conflict``, a line whose sequence number
///   and previous hash do not continue the stored chain (another process appended first), so the chain
///   keeps one head across processes.
public protocol SharedStore: ForYouStore {
    /// The kinds of changes committed by any process, this one included, as they commit; the stream
    /// ends when the store closes. Notifications can be coalesced or, while the connection is down,
    /// lost: followers also poll.
    func changes() -> AsyncStream<StoreChange>
    /// Items upserted after the change number `change` (`0` for all), and the last change number.
    func items(changedAfter change: Int64) async throws -> (items: [Item], lastChange: Int64)
    /// The last line of the audit log, or `nil` when it is empty.
    func latestAuditLine() async throws -> String?
    /// A counter per kind of change that is not read by position (models, keys, controls, erasure),
    /// bumped in the same transaction as each change: followers poll these, so a lost notification
    /// delays a change by one poll at most and never hides it.
    func generations() async throws -> [StoreChange: Int64]
}
