// SPDX-License-Identifier: Apache-2.0
//
// Each catalogue item's tag indices, packed for feeds: a feed reads the tags of hundreds of candidates
// scattered over the catalogue. An array per item costs two cache misses per read at a million items
// (the array reference, then its storage elsewhere on the heap); a row of this table holds up to three
// tags and their count in 16 bytes, one miss. Items with more tags keep the rest in an overflow table.

/// The tag indices of every item, by item index.
struct ItemTagTable {
    /// Lanes 0...2: the first tags (−1 when absent); lane 3: how many tags the item has.
    private var rows: [SIMD4<Int32>] = []
    /// Every tag of the items with more than three.
    private var overflow: [Int32: [Int32]] = [:]

    /// How many tags fit in a row.
    static let inline = 3

    var count: Int { rows.count }

    /// The tags of the item at `index`.
    subscript(index: Int) -> ItemTags {
        let row = rows[index]
        return ItemTags(row: row, more: row[3] > Int32(Self.inline) ? overflow[Int32(index)] : nil)
    }

    /// How many tags the item at `index` has; reading it brings the item's row into the cache.
    func tagCount(_ index: Int) -> Int { Int(rows[index][3]) }

    /// Adds the next item's tags.
    mutating func append(_ tags: [Int32]) {
        rows.append(Self.row(tags))
        if tags.count > Self.inline { overflow[Int32(rows.count - 1)] = tags }
    }

    /// Replaces the tags of the item at `index`.
    mutating func replace(at index: Int, with tags: [Int32]) {
        rows[index] = Self.row(tags)
        overflow[Int32(index)] = tags.count > Self.inline ? tags : nil
    }

    private static func row(_ tags: [Int32]) -> SIMD4<Int32> {
        var row = SIMD4<Int32>(-1, -1, -1, Int32(tags.count))
        for lane in 0..<min(tags.count, inline) { row[lane] = tags[lane] }
        return row
    }
}

/// One item's tag indices, in the order given at upsert.
struct ItemTags: RandomAccessCollection {
    fileprivate let row: SIMD4<Int32>
    /// All the tags, when there are more than a row holds.
    fileprivate let more: [Int32]?

    var startIndex: Int { 0 }
    var endIndex: Int { Int(row[3]) }

    subscript(position: Int) -> Int32 {
        precondition(position >= 0 && position < endIndex, "tag position out of range")
        if let more { return more[position] }
        return row[position]
    }
}
