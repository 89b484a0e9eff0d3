// SPDX-License-Identifier: Apache-2.0

/// Durable storage of the item catalogue.
public protocol ItemCatalog: Sendable {
    /// Inserts or replaces items by id, all or none.
    /// - Complexity: O(n log N) for n items in a catalogue of N.
    func upsert(_ items: [Item]) async throws
    /// Every item, in the order each id was first upserted (a replaced item keeps its place), so the
    /// engine rebuilds exactly the state it had; read once when the engine opens.
    func allItems() async throws -> [Item]
}
