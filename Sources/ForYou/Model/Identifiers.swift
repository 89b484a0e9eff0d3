// SPDX-License-Identifier: Apache-2.0

/// The rules every public identifier follows: 1...256 bytes of UTF-8 with no control characters.
public enum IdentifierRules {
    /// The longest identifier accepted, in UTF-8 bytes.
    public static let maximumBytes = 256

    /// Checks `value` against the identifier rules.
    /// - Parameter field: the field name used in the error message.
    /// - Throws: ``ForYouError/Code/invalidID`` naming `field` and the rule broken.
    public static func validate(_ value: String, field: String) throws(ForYouError) {
        let count = value.utf8.count
        if count == 0 {
            throw ForYouError(.invalidID, "`\(field)` must not be empty")
        }
        if count > maximumBytes {
            throw ForYouError(.invalidID, "`\(field)` must be at most \(maximumBytes) bytes of UTF-8, got \(count)")
        }
        // C0 controls and DEL are single bytes; C1 controls (U+0080...U+009F) are encoded as 0xC2 0x80...0x9F.
        var previous: UInt8 = 0
        for byte in value.utf8 {
            if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) {
                throw ForYouError(.invalidID, "`\(field)` must not contain control characters")
            }
            previous = byte
        }
    }
}

/// What an ``Identifier`` identifies; gives each kind of id its own type.
public protocol IdentifierKind: Sendable {
    /// The field name used in error messages by default.
    static var defaultField: String { get }
}

/// A strongly typed public identifier: a client-chosen string that follows ``IdentifierRules``.
///
/// `UserID`, `ItemID`, `CreatorID` and `EventID` are distinct types, so a user id can never be
/// passed where an item id is expected.
public struct Identifier<Kind: IdentifierKind>: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The identifier as the client sent it.
    public let rawValue: String

    /// Creates an identifier, checking ``IdentifierRules``.
    /// - Throws: ``ForYouError/Code/invalidID`` naming `field`.
    public init(validating rawValue: String, field: String = Kind.defaultField) throws(ForYouError) {
        try IdentifierRules.validate(rawValue, field: field)
        self.rawValue = rawValue
    }

    /// Creates an identifier without checks, for values validated before they were stored.
    public init(trusted rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

public enum UserKind: IdentifierKind { public static var defaultField: String { "user" } }
public enum ItemKind: IdentifierKind { public static var defaultField: String { "item" } }
public enum CreatorKind: IdentifierKind { public static var defaultField: String { "creator" } }
public enum EventKind: IdentifierKind { public static var defaultField: String { "id" } }
public enum RegionKind: IdentifierKind { public static var defaultField: String { "region" } }

/// A user's public identifier.
public typealias UserID = Identifier<UserKind>
/// An item's public identifier.
public typealias ItemID = Identifier<ItemKind>
/// The public identifier of the account that published an item.
public typealias CreatorID = Identifier<CreatorKind>
/// The client's identifier of one event; resending an event with the same id stores nothing new.
public typealias EventID = Identifier<EventKind>
/// A region within the deployment's jurisdiction (a state, a city, a market: the operator's choice),
/// for items' statistics per region.
public typealias RegionID = Identifier<RegionKind>
