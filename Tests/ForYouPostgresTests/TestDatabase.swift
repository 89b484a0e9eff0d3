// SPDX-License-Identifier: Apache-2.0

import ForYouPostgres
import ForYouTesting

/// Fresh, empty databases on the test server (see `TestPostgres`).
enum TestDatabase {
    /// How long a connection may take while the rest of the suite keeps both cores busy.
    static let timeout: Duration = .seconds(60)

    /// Creates an empty database and returns its URL.
    static func create() async throws -> String {
        try await PostgresStore.createDatabase(named: TestPostgres.freshDatabaseName(), on: try TestPostgres.serverURL(), timeout: timeout)
    }
}
