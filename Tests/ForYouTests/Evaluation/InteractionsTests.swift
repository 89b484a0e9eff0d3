// SPDX-License-Identifier: Apache-2.0

import ForYou
import Testing

struct InteractionsTests {
    @Test func parsesEveryFormat() throws {
        let expected = [Interaction(user: "1", item: "10", timestamp: 100), Interaction(user: "2", item: "20", timestamp: 200)]
        #expect(try Interaction.parse("1\t10\t5\t100\n2\t20\t3\t200\n", format: .udata) == expected)
        #expect(try Interaction.parse("1::10::5::100\r\n2::20::3::200", format: .dat) == expected)
        #expect(try Interaction.parse("userId,movieId,rating,timestamp\n1,10,4.5,100\n2,20,3.0,200.0\n", format: .csv) == expected)
        #expect(try Interaction.parse("timestamp,item,user\n100,10,1\n\n200,20,2\n", format: .csv) == expected)
    }

    @Test func quotedCSVFieldsMayHoldCommasAndQuotes() throws {
        let text = "user,item,timestamp\n\"u,1\",\"say \"\"hi\"\"\",5\n"
        #expect(try Interaction.parse(text, format: .csv) == [Interaction(user: "u,1", item: "say \"hi\"", timestamp: 5)])
        #expect(CSVText.escape("plain") == "plain")
        #expect(CSVText.escape("a,b") == "\"a,b\"")
        #expect(CSVText.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        for field in ["x", "a,b", "q\"q", ""] { #expect(CSVText.fields(Substring(CSVText.escape(field) + ",z")) == [Substring(field), "z"]) }
    }

    @Test func aTimestampBeyondSixtyFourBitsIsAnError() {
        #expect(throws: ForYouError.self) { try Interaction.parse("user,item,timestamp\n1,2,1e19\n", format: .csv) }
    }

    @Test func guessesTheFormatFromTheFileName() {
        #expect(InteractionFormat.guess(fromFileName: "ml-100k/u.data") == .udata)
        #expect(InteractionFormat.guess(fromFileName: "ratings.dat") == .dat)
        #expect(InteractionFormat.guess(fromFileName: "train.csv") == .csv)
    }

    @Test func malformedInputIsAnErrorNamingTheLine() {
        for (text, format, message) in [
            ("user,item\n1,2\n", InteractionFormat.csv, "no column among timestamp"),
            ("user,item,timestamp\n1,2,soon\n", .csv, "line 2"),
            ("1\t10\t5\n", .udata, "line 1 has 3 fields"),
            ("user,item,timestamp\n,2,5\n", .csv, "must not be empty"),
        ] {
            do {
                _ = try Interaction.parse(text, format: format)
                Issue.record("accepted \(text)")
            } catch let error as ForYouError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(message), "\(error.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}

struct LeaveLastOutSplitTests {
    @Test func idsCompareAsNumbersWhenTheyAreIntegers() {
        #expect(["10", "9", "b", "-1", "a", "100"].sorted(by: protocolIDOrder) == ["-1", "9", "10", "100", "a", "b"])
        // Any length, leading zeros, negative numbers; "+1" is not an integer id (as in the reference).
        let ids = ["123456789012345678901234567890", "-20", "-3", "007", "7", "+1", "0", "-0", "99999999999999999999"]
        #expect(ids.sorted(by: protocolIDOrder) == [
            "-20", "-3", "-0", "0", "007", "7", "99999999999999999999", "123456789012345678901234567890", "+1",
        ])
    }

    @Test func splitsAsTheProtocolSays() {
        let interactions = [
            // u1: a duplicate (5 again later collapses to its earliest), a timestamp tie broken by item id.
            Interaction(user: "u1", item: "5", timestamp: 10), Interaction(user: "u1", item: "12", timestamp: 30),
            Interaction(user: "u1", item: "3", timestamp: 30), Interaction(user: "u1", item: "5", timestamp: 40),
            Interaction(user: "u1", item: "7", timestamp: 50),
            // u2 has two distinct items: dropped, but its items stay in the catalogue.
            Interaction(user: "u2", item: "99", timestamp: 1), Interaction(user: "u2", item: "99", timestamp: 2),
            Interaction(user: "u2", item: "8", timestamp: 3),
            Interaction(user: "u10", item: "3", timestamp: 1), Interaction(user: "u10", item: "7", timestamp: 2),
            Interaction(user: "u10", item: "5", timestamp: 3),
        ]
        let split = LeaveLastOutSplit(interactions)
        #expect(split.items == ["3", "5", "7", "8", "12", "99"])
        #expect(split.users == ["u1", "u10"])
        func ids(_ indices: [Int32]) -> [String] { indices.map { split.items[Int($0)] } }
        #expect(ids(split.train[0]) == ["5", "3"])
        #expect(ids([split.validation[0], split.test[0]]) == ["12", "7"])
        #expect(ids(split.train[1]) == ["3"])
        #expect(ids([split.validation[1], split.test[1]]) == ["7", "5"])
        #expect(split.fit.map(ids) == [["5", "3", "12"], ["3", "7"]])
    }
}

struct RankingMetricsTests {
    @Test func matchesHandComputedValues() {
        // Targets at rank 1, rank 3, rank 15, and missing.
        let rankings: [[Int32]] = [
            [7, 1, 2], [4, 5, 6, 8], Array(20..<40), [1, 2, 3],
        ]
        let metrics = RankingMetrics(rankings: rankings, targets: [7, 6, 34, 9], catalogueSize: 50)
        #expect(metrics.recallAt10 == 0.5)
        #expect(metrics.recallAt20 == 0.75)
        #expect(abs(metrics.ndcgAt10 - (1 + 0.5) / 4) < 1e-12)
        #expect(abs(metrics.ndcgAt20 - (1 + 0.5 + 0.25) / 4) < 1e-12)  // rank 15: 1 / log2(16)
        // Top-10s cover 7,1,2 + 4,5,6,8 + 20...29 + 3 = 18 distinct items of 50.
        #expect(metrics.coverageAt10 == 18.0 / 50.0)
        #expect(metrics.users == 4)
    }
}
