// SPDX-License-Identifier: Apache-2.0
//
// Interaction files for offline evaluation (`../shared/eval/PROTOCOL.md`): one (user, item, timestamp)
// per line, read from MovieLens `u.data` (tab-separated), `ratings.dat` (`::`-separated), or a CSV
// with a header naming the user, item and timestamp columns (`user,item,timestamp`, MovieLens
// `ratings.csv` with `userId,movieId,rating,timestamp`). The engine parses text; reading the file is
// the caller's job.

/// One observed (user, item) pair with its Unix time in seconds.
public struct Interaction: Hashable, Sendable {
    public var user: String
    public var item: String
    public var timestamp: Int64
    public init(user: String, item: String, timestamp: Int64) {
        self.user = user
        self.item = item
        self.timestamp = timestamp
    }
}

/// The layout of an interaction file.
public enum InteractionFormat: String, Sendable, CaseIterable {
    /// MovieLens 100K `u.data`: `user<TAB>item<TAB>rating<TAB>timestamp`, no header.
    case udata
    /// MovieLens 1M `ratings.dat`: `user::item::rating::timestamp`, no header.
    case dat
    /// CSV with a header naming `user`/`userId`/`user_id`, `item`/`movieId`/`item_id`/`itemId` and
    /// `timestamp`/`ts`/`time` columns (any order, other columns ignored).
    case csv

    /// The format a file name suggests, as the reference evaluator guesses it.
    public static func guess(fromFileName name: String) -> InteractionFormat {
        if name.hasSuffix(".data") { return .udata }
        if name.hasSuffix(".dat") { return .dat }
        return .csv
    }
}

extension Interaction {
    /// Parses interaction text.
    /// - Throws: ``ForYouError/Code/invalidArgument`` naming the line and the rule when a line is malformed
    ///   or a CSV header lacks a needed column.
    /// - Complexity: O(n) in the text's length.
    public static func parse(_ text: String, format: InteractionFormat) throws -> [Interaction] {
        var interactions: [Interaction] = []
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).makeIterator()
        var columns: (user: Int, item: Int, timestamp: Int)
        let separator: String
        var lineNumber = 0
        switch format {
        case .udata:
            columns = (0, 1, 3)
            separator = "\t"
        case .dat:
            columns = (0, 1, 3)
            separator = "::"
        case .csv:
            guard let header = lines.next() else { return [] }
            lineNumber = 1
            let names = CSVText.fields(header).map { $0.trimmingSpaces.lowercased() }
            func column(_ candidates: [String]) throws -> Int {
                guard let index = names.firstIndex(where: candidates.contains) else {
                    throw ForYouError(.invalidArgument, "the CSV header has no column among \(candidates.joined(separator: ", ")): \(names)")
                }
                return index
            }
            columns = (
                try column(["user", "userid", "user_id"]), try column(["item", "movieid", "item_id", "itemid"]),
                try column(["timestamp", "ts", "time"])
            )
            separator = ","
        }
        let needed = max(columns.user, columns.item, columns.timestamp)
        while let line = lines.next() {
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            let fields = format == .csv ? CSVText.fields(line) : line.split(separator: separator, omittingEmptySubsequences: false)
            guard fields.count > needed else {
                throw ForYouError(.invalidArgument, "line \(lineNumber) has \(fields.count) fields; at least \(needed + 1) are needed")
            }
            let rawTime = fields[columns.timestamp].trimmingSpaces
            guard let timestamp = Int64(rawTime) ?? Double(rawTime).flatMap({ $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) : nil }) else {
                throw ForYouError(.invalidArgument, "line \(lineNumber): the timestamp `\(rawTime)` is not a number of seconds")
            }
            let user = fields[columns.user].trimmingSpaces
            let item = fields[columns.item].trimmingSpaces
            guard !user.isEmpty, !item.isEmpty else {
                throw ForYouError(.invalidArgument, "line \(lineNumber): the user and item ids must not be empty")
            }
            interactions.append(Interaction(user: user, item: item, timestamp: timestamp))
        }
        return interactions
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}
