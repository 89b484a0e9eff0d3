// SPDX-License-Identifier: Apache-2.0
//
// Each item's running statistics: views, completion, likes and shares, in total and per region and
// hour. Every event updates them as it is folded in, before it is acknowledged, and erasing a user
// subtracts exactly what their events added (see `EngineState.erase`).
//
// Totals are flat arrays by catalogue index. The hourly counts cover the latest `retentionHours` hours
// of event time (an event older than that counts in the totals only): one dictionary per hour, item →
// counts per region, so the oldest hour is dropped whole when a newer hour begins. Memory is bounded by
// the events of the retention window, not by the log, and an update is two hash lookups.

/// Views, completion, likes and shares of an item.
struct ItemCounts: Equatable, Sendable {
    var views: Int32 = 0
    var likes: Int32 = 0
    var shares: Int32 = 0
    /// The sum of the views' completions (`watch_ms / duration_ms`, at most 1.5 for replays).
    var completion: Float = 0

    /// Adds `other` (sign +1) or subtracts it (sign -1), never below zero.
    mutating func add(_ other: ItemCounts, sign: Int32) {
        views = max(0, views + sign * other.views)
        likes = max(0, likes + sign * other.likes)
        shares = max(0, shares + sign * other.shares)
        completion = views == 0 ? 0 : max(0, completion + Float(sign) * other.completion)
    }

    /// What one event adds: nothing for types other than view, like and share.
    init(of type: EventType, watchMilliseconds: Int64?, durationMilliseconds: Int64) {
        switch type {
        case .view:
            views = 1
            if let watch = watchMilliseconds, durationMilliseconds > 0 { completion = min(1.5, Float(watch) / Float(durationMilliseconds)) }
        case .like: likes = 1
        case .share: shares = 1
        default: break
        }
    }

    init() {}

    var isZero: Bool { views == 0 && likes == 0 && shares == 0 }
}

struct ItemStatistics {
    /// One item's counts in one hour: the first region inline (an item mostly sees one region an
    /// hour), any others after it.
    struct HourCounts {
        var region: Int32
        var counts = ItemCounts()
        var others: [(region: Int32, counts: ItemCounts)] = []

        mutating func add(_ delta: ItemCounts, region r: Int32, sign: Int32) {
            if r == region {
                counts.add(delta, sign: sign)
            } else if let index = others.firstIndex(where: { $0.region == r }) {
                others[index].counts.add(delta, sign: sign)
            } else if sign > 0 {
                others.append((r, delta))
            }
        }

        var all: [(region: Int32, counts: ItemCounts)] { [(region, counts)] + others }
    }

    /// All-time counts per catalogue index.
    private(set) var totals: [ItemCounts] = []
    /// Hour (event time in ms / one hour) → item index → counts per region.
    private var hours: [Int64: [Int32: HourCounts]] = [:]
    /// The newest hour an event fell in; the window is the `retentionHours` hours up to it.
    private(set) var newestHour = Int64.min
    let retentionHours: Int64
    /// Region index → region; index 0 stands for "no region given".
    private(set) var regions: [RegionID?] = [nil]
    private var regionIndex: [RegionID: Int32] = [:]

    init(retentionHours: Int) {
        self.retentionHours = Int64(retentionHours)
    }

    mutating func reserve(items count: Int) {
        if totals.count < count { totals.append(contentsOf: repeatElement(ItemCounts(), count: count - totals.count)) }
    }

    /// Folds one event in (sign +1) or takes it out (sign -1, erasure).
    mutating func record(_ delta: ItemCounts, item: Int32, region: RegionID?, at: Int64, sign: Int32) {
        guard !delta.isZero else { return }
        totals[Int(item)].add(delta, sign: sign)
        let hour = at / Timestamp.hour
        if sign > 0 && hour > newestHour {
            newestHour = hour
            let oldest = hour - retentionHours + 1
            for expired in hours.keys where expired < oldest { hours[expired] = nil }
        }
        guard hour > newestHour - retentionHours else { return }
        let r = intern(region, adding: sign > 0)
        guard let r else { return }
        if sign > 0 {
            hours[hour, default: [:]][item, default: HourCounts(region: r)].add(delta, region: r, sign: sign)
        } else {
            hours[hour]?[item]?.add(delta, region: r, sign: sign)
        }
    }

    /// The index of a region, interning it when `adding`; nil for an unknown region when not adding.
    private mutating func intern(_ region: RegionID?, adding: Bool) -> Int32? {
        guard let region else { return 0 }
        if let index = regionIndex[region] { return index }
        guard adding else { return nil }
        let index = Int32(regions.count)
        regions.append(region)
        regionIndex[region] = index
        return index
    }

    /// The item's counts per hour and region from `sinceHour` on, oldest hour first.
    func buckets(of item: Int32, sinceHour: Int64) -> [(hour: Int64, region: RegionID?, counts: ItemCounts)] {
        var result: [(hour: Int64, region: RegionID?, counts: ItemCounts)] = []
        for (hour, items) in hours where hour >= sinceHour {
            guard let counts = items[item] else { continue }
            for (region, value) in counts.all where !value.isZero { result.append((hour, regions[Int(region)], value)) }
        }
        return result.sorted { ($0.hour, $0.region?.rawValue ?? "") < ($1.hour, $1.region?.rawValue ?? "") }
    }

    /// How many (hour, item) entries are held: what the window costs in memory.
    var entryCount: Int { hours.values.reduce(0) { $0 + $1.count } }
}
