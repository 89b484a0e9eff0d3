// SPDX-License-Identifier: Apache-2.0
//
// Items upserted after the model was trained have no factors. They get a vector from their metadata
// at once: the mean factors of the creator's items the model knows or, for a new creator, of the
// leading items (see `GlobalRankings`) of the item's tags. They are inserted into the live index under
// labels after the model's items, so a new item can be retrieved for the users whose taste matches its
// creator or topic, until the next training gives it a collaborative vector. The mean of several
// vectors is shorter than they are, so a new item ranks below well-known items of the same kind:
// exploration (a share of every feed) is what gives it a first audience; this gives it a second.
//
// The index looks at the catalogue lazily: a feed that finds items it has not looked at starts one
// background task that computes their vectors and inserts them (one copy of the index per batch, see
// `LiveHNSWIndex`); feeds never wait for it.

import Synchronization

/// The catalogue items a retrieval index holds beyond the model's own.
struct NewItemLabels {
    /// How many catalogue indices (from 0) have been looked at.
    var covered = 0
    /// Item of each label beyond the model's items.
    var items: [ItemID] = []
    var labelOf: [ItemID: Int32] = [:]
    /// The labels whose metadata vector is in the index (a label given first to a collaborative vector,
    /// see LearnedRetrieval+FreshVectors.swift, has none until the catalogue is covered).
    var indexed = Set<Int32>()
}

extension LearnedRetrieval {
    /// The index label of an item: its model index, or the label its metadata vector was inserted under.
    func label(of item: ItemID, modelIndex: [ItemID: Int32]) -> Int32? {
        modelIndex[item] ?? newItems.withLock { $0.labelOf[item] }
    }

    /// The item of a label returned by ``recommend(_:history:userVector:excluded:count:)``.
    func item(ofLabel label: Int32, modelItems: [ItemID]) -> ItemID? {
        if Int(label) < modelItems.count { return modelItems[Int(label)] }
        return newItems.withLock { labels in
            let offset = Int(label) - modelItems.count
            return offset < labels.items.count ? labels.items[offset] : nil
        }
    }

    /// Whether catalogue items beyond what was looked at exist, and no task is covering them yet; if
    /// so, the caller covers them and must call ``addNewItems(_:coveredUpTo:)``.
    func startCovering(catalogueCount: Int) -> Bool {
        guard newItems.withLock({ $0.covered < catalogueCount }) else { return false }
        return covering.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
    }

    var coveredCount: Int { newItems.withLock { $0.covered } }

    /// Inserts metadata vectors under new labels and records the catalogue as looked at up to `covered`.
    func addNewItems(_ vectors: [(item: ItemID, vector: [Float])], coveredUpTo covered: Int, modelItemCount: Int) {
        defer { covering.withLock { $0 = false } }
        var batch: [(id: Int32, vector: [Float])] = []
        newItems.withLock { labels in
            for (item, vector) in vectors {
                let label: Int32
                if let existing = labels.labelOf[item] {
                    label = existing
                } else {
                    label = Int32(modelItemCount + labels.items.count)
                    labels.items.append(item)
                    labels.labelOf[item] = label
                }
                if labels.indexed.insert(label).inserted { batch.append((label, vector)) }
            }
        }
        // Labels are published before their vectors: a search cannot return a label it does not hold.
        if !batch.isEmpty { try? index.insert(batch) }
        newItems.withLock { $0.covered = max($0.covered, covered) }
    }
}

extension EngineState {
    /// Metadata vectors for the catalogue items in `range` that the model does not know: the mean
    /// factors of the creator's known items (at most 200), else of its tags' leading known items.
    /// Items with neither get none. - Complexity: O(|range| · 200 · k).
    func metadataVectors(for range: Range<Int>, modelIndex: [ItemID: Int32], factors: Matrix) -> [(item: ItemID, vector: [Float])] {
        var result: [(item: ItemID, vector: [Float])] = []
        let k = factors.columns
        for i in range where modelIndex[catalog.items[i].id] == nil {
            var known: [Int32] = []
            for item in catalog.itemsByCreator[Int(catalog.creatorOfItem[i])] {
                if let row = modelIndex[catalog.items[Int(item)].id] { known.append(row) }
                if known.count == 200 { break }
            }
            if known.isEmpty {
                for tag in catalog.tagsOfItem[i] {
                    known += rankings.leading(inTag: tag).compactMap { modelIndex[catalog.items[Int($0)].id] }
                }
            }
            guard !known.isEmpty else { continue }
            var vector = [Float](repeating: 0, count: k)
            for row in known { for d in 0..<k { vector[d] += factors[Int(row), d] } }
            let scale = 1 / Float(known.count)
            for d in 0..<k { vector[d] *= scale }
            result.append((catalog.items[i].id, vector))
        }
        return result
    }
}
