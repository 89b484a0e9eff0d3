// SPDX-License-Identifier: Apache-2.0
//
// Each item's running statistics: views, completion, likes and shares, in total and per region and
// hour. Every event updates them as it is folded in, before it is acknowledged, and erasing a user
// subtracts exactly what their events added (see `EngineState.erase`).
//
// Totals are flat arrays by catalogue index. The hourly counts cover the latest `retentionHours` hours
// (an event older than the ring counts in the totals only): a ring of one table per hour,
// (item, region) → counts in a flat array, each item's regions chained for reading them; an hour's slot
// is taken over whole by the newer hour that needs it. Memory is bounded by the events of the retention
// window, not by the log, and an update is one hash probe.

/// Views, completion, likes and shares of an item.
struct ItemCounts: Equatable, Sendable {
    var views: Int64 = 0
    var likes: Int64 = 0
    var shares: Int64 = 0
    /// The sum of the views' completions (`watch_ms / duration_ms`, at most 1.5 for replays).
    var completion: Double = 0

    /// Adds `other` (sign +1) or subtracts it (sign -1), never below zero.
    mutating func add(_ other: ItemCounts, sign: Int32) {
        let sign = Int64(sign)
        views = max(0, views + sign * other.views)
        likes = max(0, likes + sign * other.likes)
        shares = max(0, shares + sign * other.shares)
        completion = views == 0 ? 0 : max(0, completion + Double(sign) * other.completion)
    }

    /// What one event adds: nothing for types other than view, like and share.
    init(of type: EventType, watchMilliseconds: Int64?, durationMilliseconds: Int64) {
        switch type {
        case .view:
            views = 1
            if let watch = watchMilliseconds, durationMilliseconds > 0 { completion = min(1.5, Double(watch) / Double(durationMilliseconds)) }
        case .like: likes = 1
        case .share: shares = 1
        default: break
        }
    }

    init() {}

    var isZero: Bool { views == 0 && likes == 0 && shares == 0 }
}

struct ItemStatistics {
    /// One hour's counts: (region, counts) entries in one flat array, so a new region of an item
    /// allocates nothing of its own. An event finds its entry through an open-addressing table of
    /// (item, region) pairs; each item's entries are also chained from a second table, for reading an
    /// item's regions. Both use a multiplicative hash and linear probing with key and value in one slot
    /// (one cache miss), in place of Swift dictionaries, which hash every key with SipHash.
    struct HourTable {
        struct Entry {
            var region: Int32
            var next: Int32
            var counts: ItemCounts
        }
        /// The event hour this table holds (event time in ms / one hour).
        var hour = Int64.min
        /// An item (index + 1; 0: empty) and its first entry: the chain of its regions, for reading them.
        private struct Slot {
            var key: Int32 = 0
            var head: Int32 = -1
        }
        /// An (item, region) pair (see ``pairKey(_:_:)``; 0: empty) and its entry: an event finds its
        /// counts in one probe, where walking the item's chain (one entry per region, scattered) cost a
        /// cache miss per region passed, twenty for a popular item.
        private struct PairSlot {
            var key: UInt64 = 0
            var entry: Int32 = -1
        }
        /// Power-of-two sized, at most 3/4 full; both use multiplicative hashing and linear probing.
        private var slots: [Slot] = []
        private var pairs: [PairSlot] = []
        /// How many items the table holds.
        private(set) var itemCount = 0
        var entries: [Entry] = []

        init(hour: Int64 = .min) { self.hour = hour }

        @inline(__always)
        private static func pairKey(_ item: Int32, _ region: Int32) -> UInt64 {
            UInt64(UInt32(bitPattern: item &+ 1)) << 32 | UInt64(UInt32(bitPattern: region))
        }

        @inline(__always)
        private static func home(_ key: UInt64, mask: Int) -> Int {
            Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        }

        /// The slot holding `item`, or the empty slot where it would go. The table must not be empty.
        private func slot(of item: Int32) -> Int {
            let mask = slots.count - 1
            var slot = Self.home(UInt64(UInt32(bitPattern: item)), mask: mask)
            while slots[slot].key != 0 && slots[slot].key != item &+ 1 { slot = (slot + 1) & mask }
            return slot
        }

        /// The slot holding the pair `key`, or the empty slot where it would go. The table must not be empty.
        private func pairSlot(of key: UInt64) -> Int {
            let mask = pairs.count - 1
            var slot = Self.home(key, mask: mask)
            while pairs[slot].key != 0 && pairs[slot].key != key { slot = (slot + 1) & mask }
            return slot
        }

        /// Reads the pair's home slot and, when it holds the pair, its counts (see CacheWarming.swift).
        func warmth(of item: Int32, region: Int32) -> UInt64 {
            guard !pairs.isEmpty else { return 0 }
            let key = Self.pairKey(item, region)
            let slot = pairs[Self.home(key, mask: pairs.count - 1)]
            guard slot.key == key, slot.entry >= 0, Int(slot.entry) < entries.count else { return slot.key }
            return UInt64(bitPattern: entries[Int(slot.entry)].counts.views)
        }

        /// The item's first entry, if it has one.
        private func head(of item: Int32) -> Int32? {
            guard !slots.isEmpty else { return nil }
            let slot = slots[slot(of: item)]
            return slot.key == 0 ? nil : slot.head
        }

        private mutating func grow() {
            let old = slots
            slots = Array(repeating: Slot(), count: max(64, old.count * 2))
            for entry in old where entry.key != 0 { slots[slot(of: entry.key - 1)] = entry }
        }

        private mutating func growPairs() {
            let old = pairs
            pairs = Array(repeating: PairSlot(), count: max(64, old.count * 2))
            for pair in old where pair.key != 0 { pairs[pairSlot(of: pair.key)] = pair }
        }

        mutating func add(_ delta: ItemCounts, item: Int32, region: Int32, sign: Int32) {
            if sign > 0 && (entries.count + 1) * 4 > pairs.count * 3 { growPairs() }
            guard !pairs.isEmpty else { return }  // a subtraction from an empty table
            let key = Self.pairKey(item, region)
            let pair = pairSlot(of: key)
            if pairs[pair].key != 0 {
                entries[Int(pairs[pair].entry)].counts.add(delta, sign: sign)
                return
            }
            guard sign > 0 else { return }
            // A new pair: its entry goes first in the item's chain.
            if (itemCount + 1) * 4 > slots.count * 3 { grow() }
            let slot = slot(of: item)
            let index = Int32(entries.count)
            if slots[slot].key == 0 {
                slots[slot] = Slot(key: item &+ 1, head: index)
                itemCount += 1
                entries.append(Entry(region: region, next: -1, counts: delta))
            } else {
                entries.append(Entry(region: region, next: slots[slot].head, counts: delta))
                slots[slot].head = index
            }
            pairs[pair] = PairSlot(key: key, entry: index)
        }

        /// The item's counts per region.
        func counts(of item: Int32) -> [(region: Int32, counts: ItemCounts)] {
            var result: [(region: Int32, counts: ItemCounts)] = []
            var next = head(of: item) ?? -1
            while next >= 0 {
                result.append((entries[Int(next)].region, entries[Int(next)].counts))
                next = entries[Int(next)].next
            }
            return result
        }
    }

    /// All-time counts per catalogue index.
    private(set) var totals: [ItemCounts] = []
    /// A ring of hourly tables: hour h lives in slot h mod (`retentionHours` + `futureHours`), taken over
    /// by a newer hour that needs the slot, so no hashing finds an hour and memory is bounded. The
    /// `futureHours` extra slots hold events dated ahead of the clock (validation allows a day), so
    /// they never take the slot of an hour still in the window.
    private var ring: [HourTable]
    /// The first hour of the window by the server's clock (see ``dropHours(before:)``): an event before
    /// it counts in the totals only.
    private(set) var floorHour = Int64.min
    let retentionHours: Int64
    /// Region index → region; index 0 stands for "no region given".
    private(set) var regions: [RegionID?] = [nil]
    private var regionIndex: [RegionID: Int32] = [:]
    private var lastRegion: (region: RegionID, index: Int32)?

    /// - Parameter futureHours: how many hours ahead of the server's clock an event may be dated.
    init(retentionHours: Int, futureHours: Int = 25) {
        self.retentionHours = Int64(retentionHours)
        ring = Array(repeating: HourTable(), count: retentionHours + futureHours)
    }

    mutating func reserve(items count: Int) {
        if totals.count < count { totals.append(contentsOf: repeatElement(ItemCounts(), count: count - totals.count)) }
    }

    /// Folds one event in (sign +1) or takes it out (sign -1, erasure).
    mutating func record(_ delta: ItemCounts, item: Int32, region: RegionID?, at: Int64, sign: Int32) {
        guard !delta.isZero else { return }
        totals[Int(item)].add(delta, sign: sign)
        let hour = at / Timestamp.hour
        guard hour >= floorHour else { return }
        let slot = Int(hour % Int64(ring.count))
        if ring[slot].hour != hour {
            // A slot holding a newer hour means this hour left the ring: totals only. A slot holding an
            // older hour (or none) is taken over by a newer event.
            guard sign > 0, ring[slot].hour < hour else { return }
            ring[slot] = HourTable(hour: hour)
        }
        guard let r = intern(region, adding: sign > 0) else { return }
        ring[slot].add(delta, item: item, region: r, sign: sign)
    }

    /// Reads what ``record(_:item:region:at:sign:)`` reads of an item (see CacheWarming.swift).
    func warmth(of item: Int32, region: RegionID?, at: Int64) -> UInt64 {
        let hour = at / Timestamp.hour
        let slot = Int(hour % Int64(ring.count))
        let total = UInt64(bitPattern: totals[Int(item)].views)
        guard hour >= floorHour, ring[slot].hour == hour else { return total }
        let index: Int32?
        if let region { index = lastRegion?.region == region ? lastRegion?.index : regionIndex[region] } else { index = 0 }
        guard let index else { return total }
        return total &+ ring[slot].warmth(of: item, region: index)
    }

    /// Empties the tables of hours before `hour`: the engine calls it with the server's clock, so the
    /// ring holds the window (and any hours dated ahead), not the hours after it that no event took over.
    mutating func dropHours(before hour: Int64) {
        guard hour > floorHour else { return }
        floorHour = hour
        for slot in ring.indices where ring[slot].hour != .min && ring[slot].hour < hour { ring[slot] = HourTable() }
    }

    /// The index of a region, interning it when `adding`; nil for an unknown region when not adding.
    private mutating func intern(_ region: RegionID?, adding: Bool) -> Int32? {
        guard let region else { return 0 }
        // Events come in runs from the same few regions: the last one saves hashing its name.
        if let last = lastRegion, last.region == region { return last.index }
        if let index = regionIndex[region] {
            lastRegion = (region, index)
            return index
        }
        guard adding else { return nil }
        let index = Int32(regions.count)
        regions.append(region)
        regionIndex[region] = index
        return index
    }

    /// The tables that hold an hour.
    private var liveTables: [HourTable] { ring.filter { $0.hour != .min } }

    /// The item's counts per hour and region from `sinceHour` on, oldest hour first.
    func buckets(of item: Int32, sinceHour: Int64) -> [(hour: Int64, region: RegionID?, counts: ItemCounts)] {
        var result: [(hour: Int64, region: RegionID?, counts: ItemCounts)] = []
        for table in liveTables where table.hour >= sinceHour {
            for (region, value) in table.counts(of: item) where !value.isZero { result.append((table.hour, regions[Int(region)], value)) }
        }
        return result.sorted { ($0.hour, $0.region?.rawValue ?? "") < ($1.hour, $1.region?.rawValue ?? "") }
    }

    /// How many (hour, item) entries the ring holds: what it costs in memory.
    var entryCount: Int { liveTables.reduce(0) { $0 + $1.itemCount } }
}
