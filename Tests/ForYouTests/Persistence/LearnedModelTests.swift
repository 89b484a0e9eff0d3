// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Testing

struct LearnedModelTests {
    func trainedModel(reRanking: Bool = false) async -> LearnedModel {
        var random = SplitMix64(seed: 17)
        let sequences: [[Int32]] = (0..<60).map { _ in (0..<8).map { _ in Int32(random.next() % 25) } }
        var als = ALSModel.Configuration()
        als.factors = 16
        var stage = LearnedBlendModel.Configuration()
        stage.als = als
        var model = reRanking ? BlendModel(reRanking: stage) : BlendModel(transitions: .init(), als: als, transitionsWeight: 0.6)
        await model.fit(sequences: sequences, itemCount: 25)
        return LearnedModel(
            trainedAt: Timestamp(milliseconds: 1_795_681_800_000), users: 60, events: 480,
            items: (0..<25).map { ItemID(trusted: "item-\($0)") }, model: model)
    }

    func expectSameScores(_ original: LearnedModel, _ loaded: LearnedModel) {
        for history: [Int32] in [[1, 2, 3], [24], [5, 9, 13, 2, 2]] {
            var a = [Float](repeating: 0, count: 25)
            var b = [Float](repeating: 0, count: 25)
            original.model.score(history: history, into: &a)
            loaded.model.score(history: history, into: &b)
            #expect(a == b)
        }
    }

    @Test func aModelFileLoadsBackByteIdenticalAndScoresTheSame() async throws {
        let original = await trainedModel()
        let bytes = original.encoded()
        let loaded = try LearnedModel(encoded: bytes)
        #expect(loaded.encoded() == bytes)
        #expect(loaded.version == original.version)
        #expect(loaded.version.hasPrefix("blend-") && loaded.version.count == 18)
        #expect(loaded.items == original.items)
        expectSameScores(original, loaded)
    }

    /// The same model in the layout of format 1 (no stage) or 2 (a stage), as earlier builds wrote it:
    /// format 3 without its stage flag and row totals.
    func olderFormat(_ model: LearnedModel) -> [UInt8] {
        let bytes = model.encoded()
        let totals = 8 + 4 * model.items.count
        var bare = model
        bare.model.reRanker = nil
        let flag = bare.encoded().count - totals - 1
        var old = Array(bytes[..<flag]) + Array(bytes[(flag + 1)..<(bytes.count - totals * (model.model.reRanker == nil ? 1 : 2))])
        old[8] = model.model.reRanker == nil ? 1 : 2
        return old
    }

    /// Files of formats 1 and 2 still load and score the same; their transition totals, which they do
    /// not hold, are recovered from the values.
    @Test func filesOfFormats1And2StillLoad() async throws {
        for reRanking in [false, true] {
            let original = await trainedModel(reRanking: reRanking)
            let old = olderFormat(original)
            #expect(old[8] == (reRanking ? 2 : 1))
            let loaded = try LearnedModel(encoded: old)
            #expect(loaded.version == original.version && (loaded.model.reRanker != nil) == reRanking)
            expectSameScores(original, loaded)
            let recovered = zip(loaded.model.transitions.rowTotals, original.model.transitions.rowTotals)
            #expect(recovered.allSatisfy { abs($0 - $1) <= 1e-4 * max(1, $1) }, "row totals recovered from the values")
            if reRanking {
                #expect(zip(loaded.model.reRanker!.successors.rowTotals, original.model.reRanker!.successors.rowTotals).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, $1) })
            }
        }
    }

    /// Format 3 carries the learned re-ranking stage when there is one; it loads back byte-identical,
    /// scores the same, and its hyperparameters say so.
    @Test func aModelWithTheReRankingStageLoadsBack() async throws {
        let original = await trainedModel(reRanking: true)
        let bytes = original.encoded()
        #expect(bytes[8] == 3)
        let loaded = try LearnedModel(encoded: bytes)
        #expect(loaded.encoded() == bytes)
        #expect(loaded.model.name == original.model.name)
        #expect(BlendHyperparameters(loaded.model).learnedReRanking == true)
        #expect(BlendHyperparameters(await trainedModel().model).learnedReRanking == nil)
        expectSameScores(original, loaded)
    }

    @Test func theVersionChangesWithTheWeightsButNotWithTheTrainingTime() async {
        let a = await trainedModel()
        var b = a
        b.trainedAt = Timestamp(milliseconds: 0)
        #expect(LearnedModel(trainedAt: b.trainedAt, users: 1, events: 1, items: a.items, model: a.model).version == a.version)
        var changed = a.model
        changed.transitionsWeight = 0.2
        #expect(LearnedModel(trainedAt: a.trainedAt, users: 60, events: 480, items: a.items, model: changed).version != a.version)
    }

    @Test func foreignTruncatedAndFutureFilesAreRefusedWithAReason() async {
        let bytes = await trainedModel().encoded()
        #expect(bytes[8] == 3)
        var future = bytes
        future[8] = 4  // format version 4
        let staged = await trainedModel(reRanking: true).encoded()
        var misplaced = staged
        misplaced[8] = 1  // a stage and totals where format 1 has none
        for (file, reason) in [
            (Array("not a model".utf8), "bad magic"), (Array(bytes.prefix(bytes.count - 3)), "truncated"),
            (future, "format 4 is not supported"), (bytes + [0], "truncated"),
            (Array(staged.prefix(staged.count - 3)), "truncated"), (staged + [0], "truncated"), (misplaced, "bytes follow the model"),
        ] {
            do {
                _ = try LearnedModel(encoded: file)
                Issue.record("accepted a bad file (\(reason))")
            } catch let error as ForYouError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(reason), "\(error.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
