// SPDX-License-Identifier: Apache-2.0

/// One item shown to one user in a feed response.
public struct ServedRecord: Hashable, Sendable {
    public var user: UserID
    public var item: ItemID
    public var at: Timestamp
    public init(user: UserID, item: ItemID, at: Timestamp) {
        self.user = user
        self.item = item
        self.at = at
    }
}

/// What each user was served, so a feed never repeats an item within the no-repeat window.
///
/// Served history does not need power-loss durability: losing the last second of it can at worst
/// repeat an item once. Stores may therefore write it without a sync per call.
public protocol ServedHistory: Sendable {
    /// Records served items.
    func record(_ records: [ServedRecord]) async throws
    /// Every record at or after `since`, in recording order; read when the engine opens.
    func served(since: Timestamp) async throws -> [ServedRecord]
    /// Every record of `user`, in recording order (for the user's data export).
    func served(of user: UserID) async throws -> [ServedRecord]
    /// Deletes every record of `user`; returns how many were deleted.
    func eraseServed(of user: UserID) async throws -> Int
    /// Deletes every record older than `before` (outside the no-repeat window); returns how many.
    func pruneServed(before: Timestamp) async throws -> Int
}
