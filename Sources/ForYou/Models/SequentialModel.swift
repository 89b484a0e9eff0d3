// SPDX-License-Identifier: Apache-2.0

/// A model that scores every catalogue item for a user from the user's ordered history.
///
/// Items are dense indices `0..<itemCount`; histories are oldest first.
public protocol SequentialModel: Sendable {
    /// A short name for reports, with the hyperparameters that matter.
    var name: String { get }
    /// Fits the model on users' ordered histories.
    mutating func fit(sequences: [[Int32]], itemCount: Int) async
    /// Writes a score for every item into `scores` (length `itemCount`); higher ranks first.
    func score(history: [Int32], into scores: inout [Float])
}

extension SequentialModel {
    /// The `count` best items for a history, excluding the items in it; ties by lower index. Items
    /// the model cannot score (NaN, −∞) rank last rather than disappearing, so the list is as long as
    /// the catalogue allows.
    /// - Precondition: every history item is in `0..<itemCount`, the model's catalogue size.
    /// - Complexity: O(N log count) for N items.
    public func recommend(history: [Int32], count: Int, itemCount: Int) -> [(item: Int32, score: Float)] {
        precondition(history.allSatisfy { $0 >= 0 && Int($0) < itemCount }, "history items must be in 0..<itemCount")
        var scores = [Float](repeating: 0, count: itemCount)
        score(history: history, into: &scores)
        let seen = Set(history)
        var top = TopK(min(count, itemCount - seen.count))
        for (index, value) in scores.enumerated() where !seen.contains(Int32(index)) {
            top.insert(Int32(index), score: value.isFinite || value == .infinity ? value : -.greatestFiniteMagnitude)
        }
        return top.sorted().map { ($0.element, $0.score) }
    }
}
