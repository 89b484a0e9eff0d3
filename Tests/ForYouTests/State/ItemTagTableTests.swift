// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

@Suite struct ItemTagTableTests {
    /// Random appends and replacements, with 0 to 7 tags (inline and overflow rows, and a row moving
    /// from one to the other), read back as given, in order, after every step.
    @Test func agreesWithAnArrayOfArraysThroughAppendsAndReplacements() {
        var random = SplitMix64(seed: 11)
        var table = ItemTagTable()
        var expected: [[Int32]] = []
        for _ in 0..<5_000 {
            let tags = (0..<Int(random.next() % 8)).map { _ in Int32(random.next() % 50) }
            if expected.isEmpty || random.next() % 2 == 0 {
                table.append(tags)
                expected.append(tags)
            } else {
                let index = Int(random.next() % UInt64(expected.count))
                table.replace(at: index, with: tags)
                expected[index] = tags
            }
            #expect(table.count == expected.count)
        }
        for (index, tags) in expected.enumerated() {
            #expect(Array(table[index]) == tags)
            #expect(table[index].first == tags.first)
        }
    }

    /// The catalogue keeps its per-tag lists in step when an item's tags grow past a row and shrink back.
    @Test func catalogueRetagsAcrossTheInlineLimit() {
        var catalog = CatalogIndex()
        func item(_ tags: [String]) -> Item {
            Item(
                id: ItemID(trusted: "a"), creator: CreatorID(trusted: "c"), tags: tags, durationMilliseconds: 1_000, language: "en",
                publishedAt: Timestamp(milliseconds: 0))
        }
        catalog.upsert(item(["x"]))
        catalog.upsert(item(["x", "y", "z", "w", "v"]))
        #expect(catalog.tagsOfItem[0].map { catalog.tags[Int($0)] } == ["x", "y", "z", "w", "v"])
        catalog.upsert(item(["v"]))
        #expect(catalog.tagsOfItem[0].map { catalog.tags[Int($0)] } == ["v"])
        #expect(catalog.itemsByTag[Int(catalog.tagIndex["x"]!)].isEmpty)
        #expect(catalog.itemsByTag[Int(catalog.tagIndex["v"]!)] == [0])
    }
}
