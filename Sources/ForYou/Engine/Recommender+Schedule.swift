// SPDX-License-Identifier: Apache-2.0
//
// The background trainer: refits the model on a schedule. Training builds the new model aside and
// swaps it in atomically (Recommender+Training); feeds and ingestion go on meanwhile, and events that
// arrive during a training count at once, as always, and in the next model.

extension Recommender {
    /// Retrains every `interval` until the task is cancelled, when the event log changed since the last
    /// scheduled training (an unchanged log is not trained on again). Audited with the actor `schedule`.
    /// - Parameter log: called with one line per attempt (trained, skipped, or failed and why).
    public func trainPeriodically(every interval: Duration, log: @escaping @Sendable (String) -> Void = { _ in }) async {
        var trainedAtCount: Int?
        while true {
            do { try await Task.sleep(for: interval) } catch { return }
            do {
                let count = try await store.count()
                if count == trainedAtCount {
                    log("scheduled training skipped: no change in the event log since the last one")
                    continue
                }
                let info = try await train(actor: "schedule")
                trainedAtCount = count
                log("scheduled training: serving \(info.version), trained on \(info.events) events")
            } catch let error as ForYouError where error.code == .conflict {
                log("scheduled training skipped: \(error.message)")
            } catch is CancellationError {
                return
            } catch {
                log("scheduled training failed: \(error)")
            }
        }
    }
}
