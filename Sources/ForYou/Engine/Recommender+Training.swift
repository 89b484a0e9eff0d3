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
    /// - Throws: ``ForYouError/Code/conflict`` when there is nothing to learn from yet, or when a user
    ///   was erased while the model trained (train again); store errors.
    @discardableResult
    public func train(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ModelInfo {
        try await training.withLock {
            let erasuresBefore = erasures.withLock { $0 }
            let (items, durations, catalogueIndex) = state.withLock { state in
                (state.catalog.items.map(\.id), state.catalog.items.map(\.durationMilliseconds), state.catalog.itemIndex)
            }
            // Each user's positive items in event time order (log order breaks ties), each item once.
            var timed: [UserID: [(at: Int64, position: Int, item: Int32)]] = [:]
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
                    timed[event.user, default: []].append((event.at.milliseconds, events, index))
                }
                position = page.lastPosition
            }
            guard !timed.isEmpty else {
                throw ForYouError(.conflict, "no positive events to learn from yet; ingest views, likes or shares first")
            }
            var histories: [UserID: [Int32]] = [:]
            for (user, entries) in timed {
                var seen = Set<Int32>()
                histories[user] = entries.sorted { ($0.at, $0.position) < ($1.at, $1.position) }.map(\.item).filter { seen.insert($0).inserted }
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
            // Stored and swapped under the write lock, so no erasure can slip between the check and the save.
            try await writes.withLock {
                guard erasures.withLock({ $0 }) == erasuresBefore else {
                    throw ForYouError(.conflict, "a user was erased while the model trained on their events; train again")
                }
                try await store.saveModel(learnedModel.encoded(), version: learnedModel.version)
                learned.withLock { $0 = ServingModel(learnedModel) }
            }
            progress("serving \(learnedModel.version): \(model.name)")
            return Self.info(learnedModel)
        }
    }
}
