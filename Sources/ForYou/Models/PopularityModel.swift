// SPDX-License-Identifier: Apache-2.0

/// Ranks items by how many users have them: the baseline every model must beat.
public struct PopularityModel: SequentialModel {
    public private(set) var counts: [Float] = []
    public init() {}
    public var name: String { "MostPopular" }

    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        counts = [Float](repeating: 0, count: itemCount)
        for sequence in sequences { for item in Set(sequence) { counts[Int(item)] += 1 } }
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        for index in scores.indices { scores[index] = counts[index] }
    }
}
