// SPDX-License-Identifier: Apache-2.0
//
// The leave-last-out split of PROTOCOL.md, step by step:
// 1. every (user, item) pair is one positive; duplicates collapse to the earliest occurrence;
// 2. each user's interactions are ordered by (timestamp, item id), ids compared as numbers when they
//    are integers (as the reference evaluator's `id_key` does: integers first, then other ids);
// 3. per user the last interaction is the test target, the one before the validation target, the
//    rest train; users with fewer than 3 interactions are dropped;
// 4. the catalogue is every item of the data, including items only dropped users had.
// Items get dense indices in id order, so "ties break by lower item id" is "ties break by lower index".

/// Orders ids as PROTOCOL.md's reference (`id_key`) does: ids that are integers (ASCII digits with an
/// optional leading `-`, any length) first, by value; then every other id by Unicode code points. Ids
/// of equal value ("1" and "01") are ordered by code points, so the order is total and the same in
/// every run.
public func protocolIDOrder(_ a: String, _ b: String) -> Bool {
    switch (IntegerID(a), IntegerID(b)) {
    case let (x?, y?):
        if x != y { return x < y }
    case (.some, nil): return true
    case (nil, .some): return false
    case (nil, nil): break
    }
    return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
}

/// An integer id of any length, compared by value.
private struct IntegerID: Comparable {
    let negative: Bool
    /// Decimal digits without leading zeros ("" for zero).
    let magnitude: [UInt8]

    init?(_ text: String) {
        var digits = Array(text.utf8)[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let trimmed = Array(digits.drop { $0 == 48 })
        self.negative = negative && !trimmed.isEmpty
        magnitude = trimmed
    }

    static func < (a: IntegerID, b: IntegerID) -> Bool {
        if a.negative != b.negative { return a.negative }
        let smallerMagnitude = a.magnitude.count != b.magnitude.count
            ? a.magnitude.count < b.magnitude.count : a.magnitude.lexicographicallyPrecedes(b.magnitude)
        let equal = a.magnitude == b.magnitude
        return a.negative ? (!smallerMagnitude && !equal) : smallerMagnitude
    }
}

/// Every user's ordered, de-duplicated history (PROTOCOL.md steps 1, 2 and 4), with dense item indices.
public struct InteractionSequences: Sendable {
    /// Item ids by dense index, in protocol id order: the catalogue.
    public let items: [String]
    /// Every user, in protocol id order.
    public let users: [String]
    /// Each user's items, oldest first, each item once (at its earliest occurrence).
    public let sequences: [[Int32]]

    /// Histories that are already dense and ordered.
    public init(items: [String], users: [String], sequences: [[Int32]]) {
        self.items = items
        self.users = users
        self.sequences = sequences
    }

    /// - Complexity: O(n log n) for n interactions.
    public init(_ interactions: [Interaction]) {
        let itemIDs = Array(Set(interactions.map(\.item))).sorted(by: protocolIDOrder)
        let itemIndex = Dictionary(uniqueKeysWithValues: itemIDs.enumerated().map { ($0.element, Int32($0.offset)) })
        var perUser: [String: [(timestamp: Int64, item: Int32)]] = [:]
        for interaction in interactions {
            perUser[interaction.user, default: []].append((interaction.timestamp, itemIndex[interaction.item]!))
        }
        let users = perUser.keys.sorted(by: protocolIDOrder)
        items = itemIDs
        self.users = users
        sequences = users.map { user in
            var seen = Set<Int32>()
            return perUser[user]!.sorted { $0.timestamp < $1.timestamp || ($0.timestamp == $1.timestamp && $0.item < $1.item) }
                .map(\.item).filter { seen.insert($0).inserted }
        }
    }
}

/// A leave-last-out split with dense item indices (PROTOCOL.md step 3).
public struct LeaveLastOutSplit: Sendable {
    /// Item ids by dense index, in protocol id order: the catalogue.
    public let items: [String]
    /// The users kept (at least 3 interactions), in protocol id order.
    public let users: [String]
    /// Each kept user's training sequence, oldest first.
    public let train: [[Int32]]
    /// Each kept user's validation target.
    public let validation: [Int32]
    /// Each kept user's test target.
    public let test: [Int32]

    /// Splits interactions as PROTOCOL.md says.
    /// - Complexity: O(n log n) for n interactions.
    public init(_ interactions: [Interaction]) {
        self.init(InteractionSequences(interactions))
    }

    /// Splits ordered histories: last item test, the one before validation, users with fewer than 3 dropped.
    public init(_ sequences: InteractionSequences) {
        var users: [String] = []
        var train: [[Int32]] = []
        var validation: [Int32] = []
        var test: [Int32] = []
        for (user, ordered) in zip(sequences.users, sequences.sequences) where ordered.count >= 3 {
            users.append(user)
            train.append(Array(ordered.dropLast(2)))
            validation.append(ordered[ordered.count - 2])
            test.append(ordered[ordered.count - 1])
        }
        self.items = sequences.items
        self.users = users
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Train plus validation: what a model is fitted on for the final (test) numbers.
    public var fit: [[Int32]] { zip(train, validation).map { $0 + [$1] } }
}
