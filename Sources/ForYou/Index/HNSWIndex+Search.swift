// SPDX-License-Identifier: Apache-2.0
//
// Search: a greedy walk down the upper levels to the node nearest the query, then a best-first search
// of level 0 with a candidate list of `ef` (the paper's algorithms 2 and 5). Distances are minus inner
// products, so "nearest" means "largest inner product". The loop allocates nothing: the visited set,
// both heaps and the padded query live in a pooled `SearchScratch`, and every array is reached through
// pointers read once before the loop.

extension HNSWIndex {
    // MARK: - Approximate search

    /// The `count` ids with (approximately) the largest inner product with `query`, best first; ties
    /// go to the smaller id. Removed ids are never returned.
    /// - Parameters:
    ///   - query: ``dimension`` finite values.
    ///   - count: how many results to return (fewer only when fewer ids are searchable).
    ///   - ef: the candidate list size; defaults to ``Configuration/efSearch`` and is raised to `count`.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a malformed query, `count` < 1 or `ef` < 1.
    /// - Complexity: about O(ef · M · log n) inner products.
    public func search(_ query: [Float], count: Int, ef: Int? = nil) throws -> [Neighbor] {
        try search(query, count: count, ef: ef, filter: AllowingAll())
    }

    /// The `count` ids that `filter` allows with (approximately) the largest inner product with `query`.
    ///
    /// The filter is applied during the walk, not to its output: rejected nodes are walked through but
    /// never kept, so `count` results come back whenever `count` allowed ids exist and are reachable,
    /// at the price of a longer walk when the filter rejects most ids.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a malformed query, `count` < 1 or `ef` < 1.
    /// - Complexity: about O(ef · M · log n / f) inner products when the filter allows a fraction f.
    public func search<Filter: VectorFilter>(_ query: [Float], count: Int, ef: Int? = nil, filter: Filter) throws -> [Neighbor] {
        try query.withUnsafeBufferPointer { try search($0, count: count, ef: ef, filter: filter) }
    }

    /// ``search(_:count:ef:filter:)`` over a query in caller-owned memory.
    public func search<Filter: VectorFilter>(
        _ query: UnsafeBufferPointer<Float>, count: Int, ef: Int? = nil, filter: Filter
    ) throws -> [Neighbor] {
        try validate(query, field: "query")
        guard count >= 1 else { throw ForYouError(.invalidArgument, "`count` must be >= 1, got \(count)") }
        if let ef, ef < 1 { throw ForYouError(.invalidArgument, "`ef` must be >= 1, got \(ef)") }
        let storage = storage
        guard storage.entryPoint >= 0 else { return [] }
        let ef = max(ef ?? configuration.efSearch, count)
        let isFiltering = Filter.self != AllowingAll.self
        return scratches.withScratch { scratch in
            let padded = scratch.loadQuery(query, stride: storage.stride)
            let view = storage.view
            let entry = view.greedyDescent(padded, queryAugment: 0, from: storage.entryPoint, level: storage.maxLevel, downTo: 0)
            view.searchLayer(padded, queryAugment: 0, entry: entry, level: 0, ef: ef, filter: filter, isFiltering: isFiltering, scratch: scratch)
            var results = scratch.results
            defer { scratch.results = results }
            while results.count > count { results.popMinimum() }
            var neighbors = [Neighbor](repeating: Neighbor(id: 0, score: 0), count: results.count)
            var position = results.count - 1
            while !results.isEmpty {
                let key = ~results.popMinimum()
                neighbors[position] = Neighbor(id: HNSWKey.id(key), score: -HNSWKey.distance(key))
                position -= 1
            }
            return neighbors
        }
    }

    // MARK: - Exact search

    /// The exact answer that ``search(_:count:ef:filter:)`` approximates, by scoring every allowed id
    /// with the same kernel (so scores are bit-identical); ties go to the smaller id.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a malformed query or `count` < 1.
    /// - Complexity: O(n · dimension + n log count).
    public func exactSearch<Filter: VectorFilter>(_ query: [Float], count: Int, filter: Filter) throws -> [Neighbor] {
        try query.withUnsafeBufferPointer { try validate($0, field: "query") }
        guard count >= 1 else { throw ForYouError(.invalidArgument, "`count` must be >= 1, got \(count)") }
        let storage = storage
        return scratches.withScratch { scratch in
            let padded = query.withUnsafeBufferPointer { scratch.loadQuery($0, stride: storage.stride) }
            var top = TopK(count)
            let view = storage.view
            let levels = storage.levels.base
            for id in Int32(0)..<Int32(view.slotCount) where levels[Int(id)] >= 0 && !view.isDeleted(id) && filter.allows(id) {
                top.insert(id, score: HNSWDot.dot(padded, view.vector(id), view.stride))
            }
            return top.sorted().map { Neighbor(id: $0.element, score: $0.score) }
        }
    }

    /// ``exactSearch(_:count:filter:)`` with no filter.
    public func exactSearch(_ query: [Float], count: Int) throws -> [Neighbor] {
        try exactSearch(query, count: count, filter: AllowingAll())
    }
}

extension GraphView {
    /// Walks greedily from `entry` at `level` down to `bottom` + 1, moving to any closer neighbour
    /// until none is closer; returns where level `bottom` should start.
    @_optimize(speed)
    func greedyDescent(_ query: UnsafePointer<Float>, queryAugment: Float, from entry: Int32, level: Int, downTo bottom: Int) -> Int32 {
        var current = entry
        var currentDistance = distance(query, queryAugment: queryAugment, to: current)
        var level = level
        while level > bottom {
            var changed = true
            while changed {
                changed = false
                let list = links(current, level: level)
                for position in 0..<Int(list[0]) {
                    let neighbor = list[1 + position]
                    let candidate = distance(query, queryAugment: queryAugment, to: neighbor)
                    if candidate < currentDistance {
                        currentDistance = candidate
                        current = neighbor
                        changed = true
                    }
                }
            }
            level -= 1
        }
        return current
    }

    /// Best-first search of one level from `entry` (the paper's SEARCH-LAYER, with hnswlib's filter
    /// handling); leaves up to `ef` allowed results in `scratch.results` as complemented keys.
    ///
    /// Tombstones and nodes the filter rejects are expanded but never kept. When nothing is rejected,
    /// the walk stops as soon as the nearest unexpanded candidate is farther than the farthest result;
    /// when something may be rejected, it goes on until it also holds `ef` results.
    @_optimize(speed)
    func searchLayer<Filter: VectorFilter>(
        _ query: UnsafePointer<Float>, queryAugment: Float, entry: Int32, level: Int, ef: Int, filter: Filter, isFiltering: Bool,
        scratch: SearchScratch
    ) {
        scratch.begin(nodes: slotCount)
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }
        let visited = scratch.visited.base
        let batchIDs = scratch.batchIDs
        let batchDistances = scratch.batchDistances
        let generation = scratch.currentGeneration
        let isFiltering = isFiltering || checksDeleted
        var touched: UInt32 = 0
        defer { scratch.touched = touched }
        @inline(__always) func distance(_ id: Int32) -> Float {
            self.distance(query, queryAugment: queryAugment, to: id)
        }
        @inline(__always) func isAllowed(_ id: Int32) -> Bool {
            (!checksDeleted || !isDeleted(id)) && filter.allows(id)
        }

        visited[Int(entry)] = generation
        let entryDistance = distance(entry)
        var farthest = Float.infinity
        if isAllowed(entry) {
            results.push(~HNSWKey.make(entryDistance, entry))
            farthest = entryDistance
        }
        candidates.push(HNSWKey.make(entryDistance, entry))
        while !candidates.isEmpty {
            let nearest = candidates.popMinimum()
            if HNSWKey.distance(nearest) > farthest && (results.count == ef || !isFiltering) { break }
            let id = HNSWKey.id(nearest)
            let list = links(id, level: level)
            // The likely next node to expand is the new nearest candidate: touch its level-0 list now,
            // so the miss overlaps this node's work instead of stalling the next round (hnswlib
            // prefetches it the same way).
            if level == 0 && !candidates.isEmpty {
                touched &+= UInt32(bitPattern: links0(HNSWKey.id(candidates.minimum))[0])
            }
            let linkCount = Int(list[0])
            // Gather the unvisited neighbours first, then score them in a tight loop: their vectors'
            // loads are independent, so the processor overlaps the cache misses.
            var fresh = 0
            for position in 1..<(1 + linkCount) {
                let neighbor = list[position]
                if visited[Int(neighbor)] == generation { continue }
                visited[Int(neighbor)] = generation
                batchIDs[fresh] = neighbor
                fresh += 1
                // Touch the vector's cache lines now: independent loads the processor issues at once,
                // standing in for hnswlib's prefetch instructions, which Swift cannot emit.
                let vector = UnsafeRawPointer(nodes + Int(neighbor) * blockBytes)
                var line = 0
                while line < stride * 4 {
                    touched &+= vector.load(fromByteOffset: line, as: UInt32.self)
                    line += 64
                }
            }
            for position in 0..<fresh { batchDistances[position] = distance(batchIDs[position]) }
            for position in 0..<fresh {
                let neighbor = batchIDs[position]
                let neighborDistance = batchDistances[position]
                guard results.count < ef || neighborDistance < farthest else { continue }
                let key = HNSWKey.make(neighborDistance, neighbor)
                candidates.push(key)
                if isAllowed(neighbor) {
                    if results.count < ef { results.push(~key) } else { results.replaceMinimum(~key) }
                    farthest = HNSWKey.distance(~results.minimum)
                }
            }
        }
    }
}
