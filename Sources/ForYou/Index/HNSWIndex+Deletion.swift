// SPDX-License-Identifier: Apache-2.0
//
// Removal in two steps, as hnswlib's `markDelete` and FreshDiskANN's delete consolidation:
//   1. `remove(_:)` sets a tombstone bit, O(1). Searches keep walking through the node (the graph
//      stays as connected as before) but never return it.
//   2. `repair()` reconnects around the tombstones: every live node that links to a removed one gets
//      a new list, chosen by the insertion heuristic from its live neighbours and the live neighbours
//      of the removed ones it linked to; then the removed nodes are unlinked and their ids become free
//      for reuse. Cost is proportional to the nodes touched, not to a rebuild.

extension HNSWIndex {
    /// Removes `id` from the results of every later search (a tombstone; see ``repair()``).
    /// - Throws: ``ForYouError/Code/invalidArgument`` when `id` is not in the index.
    /// - Complexity: O(1), plus a copy of the storage if it is shared with a snapshot.
    public mutating func remove(_ id: Int32) throws {
        guard contains(id) else { throw ForYouError(.invalidArgument, "`id` must be in the index to be removed: \(id) is not") }
        makeUnique()
        storage.setDeleted(id, true)
        storage.deletedCount += 1
        storage.liveCount -= 1
    }

    /// Reconnects the graph around removed ids and unlinks them, so searches no longer walk through
    /// them and their ids can be inserted again.
    /// - Complexity: O(t · M² · efConstruction / M) inner products, roughly, for t links to removed nodes.
    public mutating func repair() {
        guard storage.deletedCount > 0 else { return }
        makeUnique()
        let storage = storage
        let configuration = configuration
        scratches.withScratch { storage.repair(configuration: configuration, scratch: $0) }
    }
}

extension HNSWStorage {
    func repair(configuration: HNSWIndex.Configuration, scratch: SearchScratch) {
        // A new entry point first, so the fallback searches below never start on a removed node.
        if entryPoint >= 0 && isDeleted(entryPoint) {
            entryPoint = -1
            maxLevel = -1
            for node in Int32(0)..<Int32(slotCount) where levels[Int(node)] > maxLevel && !isDeleted(node) {
                entryPoint = node
                maxLevel = Int(levels[Int(node)])
            }
        }
        let view = self.view
        var pool: [(distance: Float, id: Int32)] = []
        var kept: [Int32] = []
        var seen = Set<Int32>()
        for node in Int32(0)..<Int32(slotCount) where levels[Int(node)] >= 0 && !isDeleted(node) {
            for level in 0...Int(levels[Int(node)]) {
                let list = links(node, level: level)
                let count = Int(list[0])
                guard (0..<count).contains(where: { isDeleted(list[1 + $0]) }) else { continue }
                pool.removeAll(keepingCapacity: true)
                seen = [node]
                func offer(_ candidate: Int32) {
                    guard !isDeleted(candidate), seen.insert(candidate).inserted else { return }
                    pool.append((view.distance(node, candidate), candidate))
                }
                for position in 0..<count {
                    let neighbor = list[1 + position]
                    guard isDeleted(neighbor) else {
                        offer(neighbor)
                        continue
                    }
                    let second = links(neighbor, level: level)
                    for other in 0..<Int(second[0]) { offer(second[1 + other]) }
                }
                // Too few live candidates nearby (removed clusters): search for more from the entry point.
                if pool.count < capacity(level: level) / 2, entryPoint >= 0, level <= maxLevel {
                    let vector = self.vector(node)
                    let start = view.greedyDescent(vector, queryAugment: augment[Int(node)], from: entryPoint, level: maxLevel, downTo: level)
                    view.searchLayer(
                        vector, queryAugment: augment[Int(node)], entry: start, level: level, ef: configuration.efConstruction,
                        filter: AllowingAll(), isFiltering: true, scratch: scratch)
                    while !scratch.results.isEmpty { offer(HNSWKey.id(~scratch.results.popMinimum())) }
                }
                pool.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
                view.selectNeighbors(from: pool, keeping: capacity(level: level), into: &kept)
                list[0] = Int32(kept.count)
                for (position, neighbor) in kept.enumerated() { list[1 + position] = neighbor }
            }
        }
        // Unlink the removed nodes: no live list names them any more.
        for node in Int32(0)..<Int32(slotCount) where levels[Int(node)] >= 0 && isDeleted(node) {
            levels[Int(node)] = -1
            nodes.links(Int(node))[0] = 0
            setDeleted(node, false)
        }
        deletedCount = 0
    }
}
