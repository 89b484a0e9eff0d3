// SPDX-License-Identifier: Apache-2.0

/// An item's running statistics: all-time totals, and per region and hour for the latest hours.
public struct ItemStatisticsReport: Sendable, Equatable {
    /// Views, likes and shares, and the views' mean completion.
    public struct Counts: Sendable, Equatable {
        public var views: Int
        public var likes: Int
        public var shares: Int
        /// The mean of `watch_ms / duration_ms` over the views (replays count up to 1.5); nil without views.
        public var meanCompletion: Double?

        public init(views: Int, likes: Int, shares: Int, meanCompletion: Double?) {
            self.views = views
            self.likes = likes
            self.shares = shares
            self.meanCompletion = meanCompletion
        }

        init(_ counts: ItemCounts) {
            views = Int(counts.views)
            likes = Int(counts.likes)
            shares = Int(counts.shares)
            meanCompletion = counts.views > 0 ? Double(counts.completion) / Double(counts.views) : nil
        }
    }

    /// One hour of one region.
    public struct Bucket: Sendable, Equatable {
        /// The hour's start.
        public var hour: Timestamp
        /// The region the events named; nil for events that named none.
        public var region: RegionID?
        public var counts: Counts

        public init(hour: Timestamp, region: RegionID?, counts: Counts) {
            self.hour = hour
            self.region = region
            self.counts = counts
        }
    }

    public var item: ItemID
    /// How many hours the buckets cover, up to now.
    public var hours: Int
    /// Since the log began (or the user who caused them was erased).
    public var total: Counts
    /// The buckets' sum: the latest `hours` hours.
    public var window: Counts
    /// Per region and hour, oldest first; hours and regions without views, likes or shares are left out.
    public var buckets: [Bucket]
}

extension Recommender {
    /// Empties the hourly tables that left the window by the server's clock (see `ItemStatistics.dropHours`).
    func dropStatisticsBeforeWindow(now: Timestamp) {
        let first = now.milliseconds / Timestamp.hour - Int64(configuration.itemStatisticsRetentionHours) + 1
        state.withLock { $0.statistics.dropHours(before: first) }
    }

    /// An item's running statistics: views, completion, likes and shares, in total and per region and
    /// hour for the latest `hours` hours (of the server's clock; default 24, or the retention when
    /// shorter). Current as of the last acknowledged event.
    /// - Throws: ``ForYouError/Code/invalidID`` for a bad id, ``ForYouError/Code/notFound`` for an item
    ///   never upserted, ``ForYouError/Code/invalidArgument`` for `hours` outside 1 and
    ///   ``Configuration/itemStatisticsRetentionHours``.
    public func itemStatistics(of item: String, hours: Int? = nil) throws -> ItemStatisticsReport {
        let itemID = try ItemID(validating: item, field: "item")
        let retention = configuration.itemStatisticsRetentionHours
        let hours = hours ?? min(24, retention)
        guard (1...retention).contains(hours) else {
            throw ForYouError(.invalidArgument, "`hours` must be in 1...\(retention) (item_statistics_retention_hours), got \(hours)")
        }
        let sinceHour = clock.now().milliseconds / Timestamp.hour - Int64(hours) + 1
        let found = state.withLock { state -> (ItemCounts, [(hour: Int64, region: RegionID?, counts: ItemCounts)])? in
            guard let index = state.catalog.itemIndex[itemID] else { return nil }
            return (state.statistics.totals[Int(index)], state.statistics.buckets(of: index, sinceHour: sinceHour))
        }
        guard let (total, buckets) = found else {
            throw ForYouError(.notFound, "`item` names an item that was never upserted: \(itemID)")
        }
        var window = ItemCounts()
        for bucket in buckets { window.add(bucket.counts, sign: 1) }
        return ItemStatisticsReport(
            item: itemID, hours: hours, total: .init(total), window: .init(window),
            buckets: buckets.map { .init(hour: Timestamp(milliseconds: $0.hour * Timestamp.hour), region: $0.region, counts: .init($0.counts)) })
    }
}
