// SPDX-License-Identifier: Apache-2.0

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The PostgreSQL server tests use: the URL in `FORYOU_TEST_POSTGRES` (for example
/// postgres://postgres@127.0.0.1:54329/postgres, whose user may create databases).
/// `bash .ci/with-postgres swift test` starts a throwaway server and sets it.
public enum TestPostgres {
    /// The server's URL.
    /// - Throws: when the variable is not set, saying how to set it (the tests fail; they are never skipped).
    public static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["FORYOU_TEST_POSTGRES"], !url.isEmpty else { throw Missing() }
        return url
    }

    /// A name for a fresh database.
    public static func freshDatabaseName() -> String { "foryou_test_\(UInt64.random(in: 0...UInt64.max))" }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "FORYOU_TEST_POSTGRES is not set: run the tests with `bash .ci/with-postgres swift test`, or set it to the URL of a PostgreSQL server whose user may create databases"
        }
    }
}
