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

    /// Format 2 carries the learned re-ranking stage; it loads back byte-identical, scores the same, and
    /// its hyperparameters say so.
    @Test func aModelWithTheReRankingStageLoadsBackInFormat2() async throws {
        let original = await trainedModel(reRanking: true)
        let bytes = original.encoded()
        #expect(bytes[8] == 2)
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
        #expect(bytes[8] == 1)  // no re-ranking stage: format 1, as earlier builds wrote and read it
        var future = bytes
        future[8] = 3  // format version 3
        let staged = await trainedModel(reRanking: true).encoded()
        var misplaced = staged
        misplaced[8] = 1  // a stage where format 1 has none
        for (file, reason) in [
            (Array("not a model".utf8), "bad magic"), (Array(bytes.prefix(bytes.count - 3)), "truncated"),
            (future, "format 3 is not supported"), (bytes + [0], "truncated"),
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
