// SPDX-License-Identifier: Apache-2.0
//
// The in-memory catalogue. Items, creators and tags get dense Int32 indices on first sight and keep
// them for the life of the process, so the rest of the derived state can use flat arrays and small
// integer keys. Invariants: `items[i].id` maps back to `i` in `itemIndex`; every item index appears
// exactly once in `itemsByCreator[creator[i]]` and once in `itemsByTag[t]` for each of its tags.

struct CatalogIndex {
    private(set) var items: [Item] = []
    private(set) var itemIndex: [ItemID: Int32] = [:]
    /// Creator index of each item.
    private(set) var creatorOfItem: [Int32] = []
    /// Publication time of each item (ms since the epoch), flat: feeds check it for every candidate.
    private(set) var publishedAtOfItem: [Int64] = []
    /// Tag indices of each item, packed (see ItemTagTable.swift).
    private(set) var tagsOfItem = ItemTagTable()
    private(set) var creators: [CreatorID] = []
    private(set) var creatorIndex: [CreatorID: Int32] = [:]
    private(set) var tags: [String] = []
    private(set) var tagIndex: [String: Int32] = [:]
    /// Items of each creator, in upsert order.
    private(set) var itemsByCreator: [[Int32]] = []
    /// Items carrying each tag, in upsert order.
    private(set) var itemsByTag: [[Int32]] = []

    var count: Int { items.count }

    /// The index of a creator, interning it on first sight.
    mutating func intern(creator: CreatorID) -> Int32 {
        if let index = creatorIndex[creator] { return index }
        let index = Int32(creators.count)
        creators.append(creator)
        creatorIndex[creator] = index
        itemsByCreator.append([])
        return index
    }

    private mutating func intern(tag: String) -> Int32 {
        if let index = tagIndex[tag] { return index }
        let index = Int32(tags.count)
        tags.append(tag)
        tagIndex[tag] = index
        itemsByTag.append([])
        return index
    }

    /// Inserts a new item or replaces an existing one, keeping the creator and tag lists in step.
    /// - Returns: the item's index.
    @discardableResult
    mutating func upsert(_ item: Item) -> Int32 {
        let creator = intern(creator: item.creator)
        var tagIndices: [Int32] = []
        for tag in item.tags {
            let t = intern(tag: tag)
            if !tagIndices.contains(t) { tagIndices.append(t) }
        }
        if let index = itemIndex[item.id] {
            let i = Int(index)
            let oldCreator = creatorOfItem[i]
            if oldCreator != creator {
                itemsByCreator[Int(oldCreator)].removeAll { $0 == index }
                itemsByCreator[Int(creator)].append(index)
            }
            for old in tagsOfItem[i] where !tagIndices.contains(old) { itemsByTag[Int(old)].removeAll { $0 == index } }
            for new in tagIndices where !tagsOfItem[i].contains(new) { itemsByTag[Int(new)].append(index) }
            items[i] = item
            creatorOfItem[i] = creator
            publishedAtOfItem[i] = item.publishedAt.milliseconds
            tagsOfItem.replace(at: i, with: tagIndices)
            return index
        }
        let index = Int32(items.count)
        items.append(item)
        itemIndex[item.id] = index
        creatorOfItem.append(creator)
        publishedAtOfItem.append(item.publishedAt.milliseconds)
        tagsOfItem.append(tagIndices)
        itemsByCreator[Int(creator)].append(index)
        for t in tagIndices { itemsByTag[Int(t)].append(index) }
        return index
    }
}
