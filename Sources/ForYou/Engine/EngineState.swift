// SPDX-License-Identifier: Apache-2.0
//
// All derived state of the engine, as one value guarded by the Recommender's mutex: the catalogue,
// each user's learned state and the aggregate engagement. It is a pure function of the items, the
// event log (in append order) and served history, and is rebuilt from them when the engine opens.

struct EngineState {
    var catalog = CatalogIndex()
    var users: [UserID: UserState] = [:]
    var engagement: EngagementState
    var rankings = GlobalRankings()
    /// Each item's views, completion, likes and shares, in total and per region and hour.
    var statistics: ItemStatistics
    /// Each user's explicit controls (topics, keyword filters, the non-profiled setting).
    var controls: [UserID: UserControls] = [:]
    let configuration: Recommender.Configuration

    init(configuration: Recommender.Configuration) {
        self.configuration = configuration
        self.engagement = EngagementState(trendingHalfLifeMilliseconds: configuration.feed.trendingHalfLifeMilliseconds)
        self.statistics = ItemStatistics(
            retentionHours: configuration.itemStatisticsRetentionHours,
            futureHours: Int(configuration.validation.maximumClockSkewMilliseconds / Timestamp.hour) + 1)
    }

    // MARK: - Catalogue

    mutating func upsert(_ items: [Item]) {
        // Each index once, even when a batch names an item twice.
        var added: [Int32] = []
        var redated = Set<Int32>()
        var retagged = false
        for item in items {
            let previous = catalog.itemIndex[item.id].map { (index: $0, item: catalog.items[Int($0)]) }
            let index = catalog.upsert(item)
            if let previous {
                if previous.item.publishedAt != item.publishedAt { redated.insert(index) }
                if previous.item.tags != item.tags { retagged = true }
            } else {
                added.append(index)  // named again later in the batch, it is `previous` then
            }
        }
        redated.subtract(added)
        engagement.reserve(items: catalog.count)
        statistics.reserve(items: catalog.count)
        rankings.catalogChanged(added: added, redated: redated.sorted(), retagged: retagged, catalog: catalog)
    }

    func item(_ id: ItemID) -> Item? {
        catalog.itemIndex[id].map { catalog.items[Int($0)] }
    }

    // MARK: - Events

    /// The user's latest positive items, oldest first: the history the trained model ranks from; none
    /// when the profile expired by `now` (see `UserState.profileExpired`), whether or not a sweep ran.
    func recentPositiveItems(of user: UserID, now: Int64? = nil) -> [ItemID] {
        guard let state = users[user] else { return [] }
        if let now, state.profileExpired(now: now, expiry: configuration.feed.userProfileExpiryMilliseconds) { return [] }
        return state.recent.map { catalog.items[Int($0.item)].id }
    }

    /// The items the user was served or acted on within the no-repeat window.
    func seenItems(of user: UserID, now: Int64) -> [ItemID] {
        guard let seen = users[user]?.seen else { return [] }
        let window = configuration.feed.noRepeatWindowMilliseconds
        return seen.compactMap { now - $0.value < window ? catalog.items[Int($0.key)].id : nil }
    }

    /// Folds one stored event into the user's state and the aggregates.
    /// - Parameter itemIndex: the catalogue index of `event.item` when the caller has looked it up.
    /// - Returns: whether it was a positive engagement with a catalogued item.
    @discardableResult
    mutating func apply(_ event: Event, itemIndex: Int32? = nil) -> Bool {
        // The users' table is moved out while the user's entry is folded into in place: one hash
        // lookup per event, where taking the entry out and putting it back took two.
        var table: [UserID: UserState] = [:]
        swap(&table, &users)
        defer { swap(&table, &users) }
        return fold(event, into: &table[event.user, default: UserState()], sign: 1, itemIndex: itemIndex)
    }

    /// Reads what folding these events reads first of each catalogued item, in a pass of its own (see
    /// CacheWarming.swift): at a million items each read is a likely cache miss, and folding event after
    /// event would wait for them one at a time.
    /// - Parameter itemIndices: the catalogue index of each event's item, when it has one.
    func warm(_ events: ArraySlice<Event>, itemIndices: ArraySlice<Int32?>) {
        var sum: UInt64 = 0
        // By position: binding each event to a variable would copy it (its strings retained and released).
        for position in events.indices {
            guard let index = itemIndices[position] else { continue }
            let i = Int(index)
            sum &+= UInt64(UInt32(bitPattern: catalog.creatorOfItem[i])) &+ UInt64(catalog.tagsOfItem.tagCount(i))
            sum &+= engagement.warmth(of: index) &+ statistics.warmth(of: index, region: events[position].region, at: events[position].at.milliseconds)
            // The user's entry, their tables, and the co-visitation rows of their latest positive items
            // (a positive event bumps a pair with each).
            guard let entry = users.index(forKey: events[position].user) else { continue }
            let user = users.values[entry]
            sum &+= UInt64(user.seen.count &+ user.tagAffinity.count &+ user.creatorAffinity.count)
            for positive in user.recent { sum &+= engagement.warmth(ofRow: positive.item) }
        }
        CacheWarming.keep(sum)
    }

    /// Replays served history (oldest first): what each user has seen, how many feeds they were served,
    /// the creator their last feed ended with, and each item's exposure. Records of one feed share a time.
    mutating func markServed(_ records: [ServedRecord]) {
        var lastFeedTime: [UserID: Int64] = [:]
        for record in records {
            guard let index = catalog.itemIndex[record.item] else { continue }
            let at = record.at.milliseconds
            var user = users.removeValue(forKey: record.user) ?? UserState()
            user.markSeen(index, at: at)
            if lastFeedTime.updateValue(at, forKey: record.user) != at { user.feedsServed &+= 1 }
            user.lastServedCreator = catalog.creatorOfItem[Int(index)]
            users[record.user] = user
            engagement.recordExposure(index)
        }
    }

    /// Forgets the learned profile of the named users with no event for `expiry` before `now`, and what
    /// they saw before the no-repeat window; a user with nothing left (no follow, no not-interested mark,
    /// nothing seen within the window) is dropped. Aggregates keep their events.
    /// - Returns: how many users lost a profile or were dropped.
    mutating func expireIdle(_ candidates: some Sequence<UserID>, now: Int64, expiry: Int64) -> Int {
        var expired = 0
        for id in candidates {
            guard var user = users[id], user.lastEvent == .min || now - user.lastEvent >= expiry else { continue }
            let hadProfile = !user.recent.isEmpty || !user.tagAffinity.isEmpty || !user.creatorAffinity.isEmpty
            user.forgetProfile()
            user.pruneSeen(now: now, window: configuration.feed.noRepeatWindowMilliseconds)
            let dropped = user.isEmpty
            users[id] = dropped ? nil : user
            if hadProfile || dropped { expired += 1 }
        }
        return expired
    }

    /// Forgets a user: drops their state and subtracts exactly what their events added to the aggregates.
    /// - Parameter events: the user's events in append order, read from the log before it was erased.
    mutating func erase(_ user: UserID, events: [Event]) {
        users[user] = nil
        controls[user] = nil
        var replay = UserState()
        for event in events { fold(event, into: &replay, sign: -1) }
        engagement.recomputeMaximumTrending()
        rankings.markStale()
    }

    @discardableResult
    private mutating func fold(_ event: Event, into user: inout UserState, sign: Float, itemIndex: Int32? = nil) -> Bool {
        // A user back after the expiry starts a new profile: decided by the log alone, so a replay
        // agrees with the running engine whenever its sweeps ran.
        if sign > 0, user.profileExpired(now: event.at.milliseconds, expiry: configuration.feed.userProfileExpiryMilliseconds) {
            user.forgetProfile()
        }
        user.lastEvent = max(user.lastEvent, event.at.milliseconds)
        if event.type == .profileReset {
            user.forgetProfile()
            return false
        }
        guard let itemID = event.item, let index = itemIndex ?? catalog.itemIndex[itemID] else {
            if event.type == .follow, let creator = event.creator {
                let index = catalog.intern(creator: creator)
                user.followedCreators.insert(index)
                user.learnAffinity(weight: configuration.signals.follow, tags: [Int32](), creator: index)
            }
            return false
        }
        let i = Int(index)
        // The creator and duration the item had when the event happened (kept in the event), so a
        // replay of the log gives the same weights after the item was re-upserted. Tags are read from
        // the current catalogue: a re-tagged item counts with its new tags after a restart.
        let current = catalog.creatorOfItem[i]
        let creator = event.creator.map { $0 == catalog.creators[Int(current)] ? current : catalog.intern(creator: $0) } ?? current
        let duration = event.itemDurationMilliseconds ?? catalog.items[i].durationMilliseconds
        let weight = configuration.signals.weight(of: event.type, watchMilliseconds: event.watchMilliseconds, durationMilliseconds: duration)
        let at = event.at.milliseconds
        statistics.record(
            ItemCounts(of: event.type, watchMilliseconds: event.watchMilliseconds, durationMilliseconds: duration), item: index,
            region: event.region, at: at, sign: Int32(sign))
        user.markSeen(index, at: at)
        switch event.type {
        case .notInterested:
            user.blockedItems.insert(index)
            user.blockedCreators.insert(creator)
        case .follow:
            user.followedCreators.insert(creator)
        default:
            break
        }
        user.learnAffinity(weight: weight, tags: catalog.tagsOfItem[i], creator: creator)
        if weight >= configuration.signals.positiveThreshold {
            let landmark = engagement.landmark
            engagement.add(item: index, weight: weight, at: at, recent: user.recent, sign: sign)
            // A rescale of trending (a new landmark) can round old values to 0: rebuild, as after a decrease.
            if sign > 0 && (landmark == nil || engagement.landmark == landmark) {
                rankings.raise(index, catalog: catalog, engagement: engagement)
            } else {
                rankings.markStale()
            }
            user.remember(.init(item: index, weight: weight, at: at), limit: configuration.feed.recentPositives)
            return true
        }
        return false
    }
}
