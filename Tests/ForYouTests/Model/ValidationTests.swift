// SPDX-License-Identifier: Apache-2.0

import ForYou
import Testing

struct ValidationTests {
    let rules = ValidationRules()
    let now = Timestamp(rfc3339: "2026-11-26T08:00:00Z")!

    func catalogue(_ item: ItemID) -> Item? {
        guard item.rawValue.hasPrefix("v") else { return nil }
        return Item(
            id: item, creator: CreatorID(trusted: "c-" + item.rawValue), tags: [], durationMilliseconds: 20_000, language: "",
            publishedAt: Timestamp(milliseconds: 0))
    }

    func code(_ input: EventInput) -> ForYouError.Code? {
        do {
            _ = try rules.validate(input, now: now, catalogue: catalogue)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func acceptsAValidViewAndDefaultsTheTimeToNow() throws {
        let event = try rules.validate(EventInput(id: "e1", user: "u1", item: "v1", type: "view", watchMilliseconds: 5_000), now: now, catalogue: catalogue)
        #expect(event.at == now)
        #expect(event.watchMilliseconds == 5_000)
        #expect(event.type == .view)
        #expect(event.creator == CreatorID(trusted: "c-v1"))
        #expect(event.itemDurationMilliseconds == 20_000)
    }

    @Test func followOfAnItemResolvesItsCreator() throws {
        let event = try rules.validate(EventInput(id: "e1", user: "u1", item: "v9", type: "follow"), now: now, catalogue: catalogue)
        #expect(event.creator == CreatorID(trusted: "c-v9"))
        let direct = try rules.validate(EventInput(id: "e2", user: "u1", creator: "c7", type: "follow"), now: now, catalogue: catalogue)
        #expect(direct.creator == CreatorID(trusted: "c7") && direct.item == nil)
    }

    @Test func eachBrokenRuleHasItsCode() {
        let long = String(repeating: "x", count: 257)
        let base = EventInput(id: "e1", user: "u1", item: "v1", type: "like")
        func with(_ change: (inout EventInput) -> Void) -> EventInput {
            var input = base
            change(&input)
            return input
        }
        #expect(code(base) == nil)
        #expect(code(with { $0.id = nil }) == .missingField)
        #expect(code(with { $0.user = nil }) == .missingField)
        #expect(code(with { $0.type = nil }) == .missingField)
        #expect(code(with { $0.item = nil }) == .missingField)
        #expect(code(with { $0.type = "view" }) == .missingField)  // view without watch_ms
        #expect(code(with { $0.id = "" }) == .invalidID)
        #expect(code(with { $0.user = long }) == .invalidID)
        #expect(code(with { $0.item = "v\u{7}" }) == .invalidID)
        #expect(code(with { $0.type = "swipe" }) == .unknownType)
        #expect(code(with { $0.watchMilliseconds = -1 }) == .invalidValue)
        #expect(code(with { $0.watchMilliseconds = Timestamp.day + 1 }) == .invalidValue)
        #expect(code(with { $0.malformedField = ("watch_ms", "must be an integer") }) == .invalidValue)
        #expect(code(with { $0.at = "yesterday" }) == .invalidTimestamp)
        #expect(code(with { $0.at = "1960-01-01T00:00:00Z" }) == .invalidTimestamp)
        #expect(code(with { $0.at = "2026-11-27T08:00:01Z" }) == .timestampInFuture)
        #expect(code(with { $0.at = "2026-11-27T08:00:00Z" }) == nil)  // exactly one day ahead is allowed
        #expect(code(with { $0.item = "unknown" }) == .unknownItem)
        #expect(code(with { $0.user = "bad\u{85}id" }) == .invalidID)  // a C1 control character
        #expect(code(with { $0.user = "ünïcödé 用户" }) == nil)
        #expect(code(with { $0.creator = "c-v1" }) == .invalidValue)  // creator on a like
        #expect(code(with { $0.watchMilliseconds = 5_000 }) == .invalidValue)  // watch_ms on a like
        #expect(code(with { $0.type = "skip"; $0.watchMilliseconds = 800 }) == nil)
        #expect(code(with { $0.type = "follow"; $0.creator = "someone-else" }) == .invalidValue)
        #expect(code(with { $0.type = "follow"; $0.creator = "c-v1" }) == nil)
        #expect(code(with { $0.unknownField = "timestamp" }) == .unknownField)
    }

    @Test func messagesNameTheField() {
        do {
            _ = try rules.validate(EventInput(id: "e1", user: "u1", item: "v1", type: "view", watchMilliseconds: -5), now: now, catalogue: catalogue)
            Issue.record("expected a rejection")
        } catch {
            #expect(error.message.contains("`watch_ms`"))
        }
    }

    @Test func itemRulesHaveTheirCodes() throws {
        let base = ItemInput(id: "v1", creator: "c1", tags: ["cats"], durationMilliseconds: 15_000, language: "en", publishedAt: "2026-11-25T08:00:00Z")
        func itemCode(_ change: (inout ItemInput) -> Void) -> ForYouError.Code? {
            var input = base
            change(&input)
            do {
                _ = try rules.validate(input, now: now)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(try rules.validate(base, now: now).tags == ["cats"])
        #expect(itemCode { $0.id = nil } == .missingField)
        #expect(itemCode { $0.creator = "" } == .invalidID)
        #expect(itemCode { $0.durationMilliseconds = nil } == .missingField)
        #expect(itemCode { $0.durationMilliseconds = 0 } == .invalidValue)
        #expect(itemCode { $0.durationMilliseconds = Timestamp.day + 1 } == .invalidValue)
        #expect(itemCode { $0.tags = Array(repeating: "t", count: 33) } == .invalidValue)
        #expect(itemCode { $0.tags = [""] } == .invalidID)
        #expect(itemCode { $0.language = "en gb" } == .invalidValue)
        #expect(itemCode { $0.language = "en_GB" } == .invalidValue)
        #expect(itemCode { $0.language = "pt-BR" } == nil)
        #expect(itemCode { $0.unknownField = "title" } == .unknownField)
        #expect(itemCode { $0.publishedAt = "soon" } == .invalidTimestamp)
        #expect(itemCode { $0.publishedAt = "2026-12-01T00:00:00Z" } == .timestampInFuture)
    }
}
