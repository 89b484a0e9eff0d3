// SPDX-License-Identifier: Apache-2.0
//
// Training a model from the event log and swapping it in. Training reads the log page by page and
// fits off to the side: feeds keep being served from the current model (or the rules) while it runs,
// and never wait for it. The new model is stored first, then swapped in with one pointer write, so a
// feed request uses either the old model or the new one, never a mix.

import Synchronization

/// A model ready to serve: the learned model and its item index.
final class ServingModel: Sendable {
    let learned: LearnedModel
    let index: [ItemID: Int32]

    init(_ learned: LearnedModel) {
        self.learned = learned
        index = Dictionary(uniqueKeysWithValues: learned.items.enumerated().map { ($1, Int32($0)) })
    }
}

extension Recommender {
    /// What a model was trained on and how it was configured.
    public struct ModelInfo: Sendable, Equatable {
        public var version: String
        public var trainedAt: Timestamp
        public var users: Int
        public var events: Int
        public var items: Int
        public var transitionsWeight: Float
        public var description: String
    }

    /// The model feeds use now, or `nil` while the rules serve.
    public var currentModel: ModelInfo? {
        learned.withLock { $0 }.map { Self.info($0.learned) }
    }

    static func info(_ model: LearnedModel) -> ModelInfo {
        ModelInfo(
            version: model.version, trainedAt: model.trainedAt, users: model.users, events: model.events, items: model.items.count,
            transitionsWeight: model.model.transitionsWeight, description: model.model.name)
    }

    /// Trains the default model (item transitions blended with ALS, hyperparameters chosen on an inner
    /// leave-last-out split when there are at least 10 users with 3 or more positive items) on every
    /// positive event in the log, stores it, and swaps it in.
    /// - Parameter progress: called with a line per step, for logs.
    /// - Returns: the new model's description.
    /// - Throws: ``ForYouError/Code/unavailable`` when there is nothing to learn from yet; store errors.
    @discardableResult
    public func train(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ModelInfo {
        try await training.withLock {
            let (items, durations, catalogueIndex) = state.withLock { state in
                (state.catalog.items.map(\.id), state.catalog.items.map(\.durationMilliseconds), state.catalog.itemIndex)
            }
            var histories: [UserID: [Int32]] = [:]
            var seen: [UserID: Set<Int32>] = [:]
            var events = 0
            var position: Int64 = 0
            while true {
                let page = try await store.page(after: position, limit: 10_000)
                if page.events.isEmpty { break }
                for event in page.events {
                    guard let item = event.item, let index = catalogueIndex[item] else { continue }
                    let weight = configuration.signals.weight(
                        of: event.type, watchMilliseconds: event.watchMilliseconds, durationMilliseconds: event.itemDurationMilliseconds ?? durations[Int(index)])
                    guard weight >= configuration.signals.positiveThreshold else { continue }
                    events += 1
                    if seen[event.user, default: []].insert(index).inserted { histories[event.user, default: []].append(index) }
                }
                position = page.lastPosition
            }
            guard !histories.isEmpty else {
                throw ForYouError(.unavailable, "no positive events to learn from yet; ingest views, likes or shares first")
            }
            let users = histories.keys.sorted()
            let sequences = users.map { histories[$0]! }
            progress("training on \(events) positive events of \(users.count) users over \(items.count) items")
            let all = InteractionSequences(items: items.map(\.rawValue), users: users.map(\.rawValue), sequences: sequences)
            let inner = LeaveLastOutSplit(all)
            var model = BlendModel(transitions: .init(), als: .init(), transitionsWeight: 0.5)
            if inner.users.count >= 10 {
                model = await OfflineEvaluation.selectDefaultModel(on: inner, progress: progress)
            }
            await model.fit(sequences: sequences, itemCount: items.count)
            let learnedModel = LearnedModel(trainedAt: clock.now(), users: users.count, events: events, items: items, model: model)
            try await store.saveModel(learnedModel.encoded(), version: learnedModel.version)
            learned.withLock { $0 = ServingModel(learnedModel) }
            progress("serving \(learnedModel.version): \(model.name)")
            return Self.info(learnedModel)
        }
    }
}
