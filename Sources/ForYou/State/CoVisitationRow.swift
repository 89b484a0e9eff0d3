// SPDX-License-Identifier: Apache-2.0
//
// The items co-visited with one item and their weights: a hash table with open addressing and linear
// probing in one flat array, each slot one UInt64 holding the item index (high half) and the weight's
// bits (low half). A positive event bumps up to 2 × `recentPositives` pairs on random rows of a large
// catalogue, so what costs is memory latency: a bump here reads the array's header and one slot,
// where a Swift Dictionary also reads its bitmap, keys and values apart. Deletion shifts later slots
// back (no tombstones), so a row that loses pairs (an erasure) stays as dense as one built afresh.

struct CoVisitationRow: Sequence {
    /// Capacity is 0 or a power of two, at least 4; never more than 3/4 full.
    private var slots: [UInt64] = []
    /// Pairs held.
    private(set) var count = 0

    fileprivate static let emptySlot = UInt64.max  // item index 0xFFFF_FFFF is never used

    init() {}

    var isEmpty: Bool { count == 0 }

    @inline(__always) fileprivate static func item(_ slot: UInt64) -> Int32 { Int32(truncatingIfNeeded: slot >> 32) }
    @inline(__always) fileprivate static func weight(_ slot: UInt64) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: slot)) }
    @inline(__always) private static func slot(_ item: Int32, _ weight: Float) -> UInt64 {
        UInt64(UInt32(bitPattern: item)) << 32 | UInt64(weight.bitPattern)
    }

    /// Where probing for `item` starts (Fibonacci hashing: item indices are dense and sequential).
    @inline(__always) private func home(_ item: Int32) -> Int {
        Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: item)) &* 0x9E37_79B9_7F4A_7C15) >> 32) & (slots.count - 1)
    }

    /// The slot holding `item`, or the empty slot where it would go.
    @inline(__always) private func find(_ item: Int32) -> (index: Int, found: Bool) {
        var index = home(item)
        while true {
            let slot = slots[index]
            if slot == Self.emptySlot { return (index, false) }
            if Self.item(slot) == item { return (index, true) }
            index = (index + 1) & (slots.count - 1)
        }
    }

    /// The slot where probing for `item` starts (0 when the row is empty): read to bring it into the
    /// cache before an update (see `EngagementState.add`).
    @inline(__always) func firstSlot(for item: Int32) -> UInt64 {
        slots.isEmpty ? 0 : slots[home(item)]
    }

    /// The weight of `item`, or nil when it is not co-visited with this row's item.
    subscript(item: Int32) -> Float? {
        guard !slots.isEmpty else { return nil }
        let (index, found) = find(item)
        return found ? Self.weight(slots[index]) : nil
    }

    /// Adds `amount` to the weight of `item` (from 0 when absent).
    mutating func add(_ amount: Float, to item: Int32) {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let (index, found) = find(item)
        slots[index] = Self.slot(item, found ? Self.weight(slots[index]) + amount : amount)
        if !found { count += 1 }
    }

    /// Sets the weight of `item`; nil removes it.
    mutating func set(_ weight: Float?, for item: Int32) {
        guard let weight else {
            remove(item)
            return
        }
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let (index, found) = find(item)
        slots[index] = Self.slot(item, weight)
        if !found { count += 1 }
    }

    private mutating func remove(_ item: Int32) {
        guard !slots.isEmpty else { return }
        var (hole, found) = find(item)
        guard found else { return }
        count -= 1
        // Shift back every later slot of the run that may move into the hole (its home is not
        // cyclically within (hole, index]).
        let mask = slots.count - 1
        var index = (hole + 1) & mask
        while slots[index] != Self.emptySlot {
            let home = home(Self.item(slots[index]))
            let distanceToHome = (index - home) & mask
            let distanceToHole = (index - hole) & mask
            if distanceToHome >= distanceToHole {
                slots[hole] = slots[index]
                hole = index
            }
            index = (index + 1) & mask
        }
        slots[hole] = Self.emptySlot
        if count == 0 { slots = [] }
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Self.emptySlot, count: Swift.max(4, old.count * 2))
        for slot in old where slot != Self.emptySlot {
            slots[find(Self.item(slot)).index] = slot
        }
    }

    /// Each co-visited item with its weight, in no particular order.
    func makeIterator() -> Iterator { Iterator(slots: slots) }

    struct Iterator: IteratorProtocol {
        fileprivate let slots: [UInt64]
        private var index = 0

        fileprivate init(slots: [UInt64]) { self.slots = slots }

        mutating func next() -> (key: Int32, value: Float)? {
            while index < slots.count {
                let slot = slots[index]
                index += 1
                if slot != CoVisitationRow.emptySlot { return (CoVisitationRow.item(slot), CoVisitationRow.weight(slot)) }
            }
            return nil
        }
    }
}
