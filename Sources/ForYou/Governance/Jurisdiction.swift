// SPDX-License-Identifier: Apache-2.0

/// The legal area a deployment serves, such as `us` or `eu`. A deployment serves exactly one: it
/// refuses items, events and users of any other (`wrong_jurisdiction`), its data folder remembers the
/// jurisdiction it was created for, and licensed algorithm packages must name it.
public struct Jurisdiction: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// Lowercase letters, digits and `-`, 2...16 bytes.
    public let rawValue: String

    /// Checks the format.
    /// - Throws: ``ForYouError/Code/invalidValue`` naming `field`.
    public init(validating rawValue: String, field: String = "jurisdiction") throws(ForYouError) {
        let valid = (2...16).contains(rawValue.utf8.count)
            && rawValue.utf8.allSatisfy { $0 == 45 || (48...57).contains($0) || (97...122).contains($0) }
        guard valid else {
            throw ForYouError(.invalidValue, "`\(field)` must be 2...16 lowercase letters, digits or '-', such as us or eu")
        }
        self.rawValue = rawValue
    }

    /// The default of a deployment that was not configured for a jurisdiction.
    public static let local = Jurisdiction(trusted: "local")

    init(trusted rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
