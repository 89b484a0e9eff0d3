// SPDX-License-Identifier: Apache-2.0
//
// Insertion (the paper's algorithm 1): draw the node's top level, walk greedily down to it, then on
// each level from there to 0 search with `efConstruction`, keep at most M neighbours chosen by the
// heuristic (algorithm 4: a candidate is kept only if it is nearer the new node than to every
// neighbour already kept, which keeps links pointing in different directions), and link back; a
// neighbour whose list overflows (2M at level 0, M above) is re-pruned with the same heuristic.
// Matches hnswlib's `addPoint` so the two can be compared at equal M and efConstruction.

extension HNSWStorage {
    /// The top level of `id`: ⌊−ln(u) / ln(M)⌋ for u uniform in (0, 1], drawn from the seed and the id
    /// only, so a node's level does not depend on insertion order.
    static func level(of id: Int32, seed: UInt64, m: Int) -> Int {
        var random = SplitMix64(seed: seed ^ (UInt64(UInt32(bitPattern: id)) &* 0xD6E8_FEB8_6659_FD93))
        let unit = 1 - random.nextUnit()
        return min(Int(-logarithm(unit) / logarithm(Double(m))), 32)
    }

    /// Inserts a validated vector under a free id. The caller owns this storage uniquely.
    func insert(_ vector: UnsafeBufferPointer<Float>, id: Int32, configuration: HNSWIndex.Configuration, scratch: SearchScratch) {
        ensureSlot(id)
        let level = Self.level(of: id, seed: configuration.seed, m: m)
        let stored = self.vector(id)
        stored.update(from: vector.baseAddress!, count: dimension)
        (stored + dimension).update(repeating: 0, count: stride - dimension)
        levels[Int(id)] = Int8(level)
        nodes.links(Int(id))[0] = 0
        if level > 0 { upperOffset[Int(id)] = upper.append(repeating: 0, count: level * linkStride) }
        let squaredNorm = HNSWDot.dot(stored, stored, stride)
        squaredNorms[Int(id)] = squaredNorm
        if configuration.construction == .normAugmented { updateAugment(id, squaredNorm: squaredNorm) }
        liveCount += 1

        guard entryPoint >= 0 else {
            entryPoint = id
            maxLevel = level
            return
        }
        let view = self.view
        let queryAugment = augment[Int(id)]
        var current = view.greedyDescent(stored, queryAugment: queryAugment, from: entryPoint, level: maxLevel, downTo: level)
        for layer in Swift.stride(from: min(level, maxLevel), through: 0, by: -1) {
            view.searchLayer(
                stored, queryAugment: queryAugment, entry: current, level: layer, ef: configuration.efConstruction,
                filter: AllowingAll(), isFiltering: false, scratch: scratch)
            scratch.sorted.removeAll(keepingCapacity: true)
            while !scratch.results.isEmpty {
                let key = ~scratch.results.popMinimum()
                scratch.sorted.append((HNSWKey.distance(key), HNSWKey.id(key)))
            }
            guard !scratch.sorted.isEmpty else { continue }
            scratch.sorted.reverse()
            current = scratch.sorted[0].id
            view.selectNeighbors(from: scratch.sorted, keeping: m, into: &scratch.selected)
            let list = view.links(id, level: layer)
            list[0] = Int32(scratch.selected.count)
            for (position, neighbor) in scratch.selected.enumerated() { list[1 + position] = neighbor }
            for neighbor in scratch.selected { view.link(neighbor, to: id, level: layer, scratch: scratch) }
        }
        if level > maxLevel {
            entryPoint = id
            maxLevel = level
        }
    }

    /// The augmented coordinate sqrt(maxNorm² − ‖x‖²) of `id`; a new largest norm recomputes every node's.
    private func updateAugment(_ id: Int32, squaredNorm: Float) {
        if squaredNorm > maxSquaredNorm {
            maxSquaredNorm = squaredNorm
            for node in 0..<slotCount where levels[node] >= 0 {
                augment[node] = max(0, maxSquaredNorm - squaredNorms[node]).squareRoot()
            }
        } else {
            augment[Int(id)] = max(0, maxSquaredNorm - squaredNorm).squareRoot()
        }
    }

}

extension GraphView {
    /// The heuristic of the paper's algorithm 4 (hnswlib's `getNeighborsByHeuristic2`): from
    /// candidates sorted nearest first, keep one only if it is nearer the base than to every one kept.
    /// With fewer than `limit` candidates, keeps them all.
    @_optimize(speed)
    func selectNeighbors(from sorted: [(distance: Float, id: Int32)], keeping limit: Int, into selected: inout [Int32]) {
        selected.removeAll(keepingCapacity: true)
        if sorted.count < limit {
            selected.append(contentsOf: sorted.lazy.map(\.id))
            return
        }
        for candidate in sorted {
            if selected.count >= limit { break }
            var isDiverse = true
            for kept in selected where distance(candidate.id, kept) < candidate.distance {
                isDiverse = false
                break
            }
            if isDiverse { selected.append(candidate.id) }
        }
    }

    /// Adds `id` to `node`'s list at `level`, re-pruning the list with the heuristic when it is full.
    @_optimize(speed)
    func link(_ node: Int32, to id: Int32, level: Int, scratch: SearchScratch) {
        let list = links(node, level: level)
        let count = Int(list[0])
        let capacity = capacity(level: level)
        if count < capacity {
            list[1 + count] = id
            list[0] = Int32(count + 1)
            return
        }
        var pool = scratch.pool
        var kept = scratch.kept
        pool.removeAll(keepingCapacity: true)
        pool.append((distance(node, id), id))
        for position in 0..<count { pool.append((distance(node, list[1 + position]), list[1 + position])) }
        pool.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        selectNeighbors(from: pool, keeping: capacity, into: &kept)
        list[0] = Int32(kept.count)
        for (position, neighbor) in kept.enumerated() { list[1 + position] = neighbor }
        scratch.pool = pool
        scratch.kept = kept
    }
}
