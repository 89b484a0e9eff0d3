// SPDX-License-Identifier: Apache-2.0

import ForYouPostgres
import ForYouTesting

/// Fresh, empty databases on the test server (see `TestPostgres`).
enum TestDatabase {
    /// How long a connection (and the migration) may take while the rest of the suite keeps both cores
    /// busy: the model fits of the training and unlearning tests hold the cooperative threads that the
    /// connection's continuations resume on, for tens of seconds in a debug build (a CI run once took 83 s).
    static let timeout: Duration = .seconds(180)

    /// Creates an empty database and returns its URL.
    static func create() async throws -> String {
        try await PostgresStore.createDatabase(named: TestPostgres.freshDatabaseName(), on: try TestPostgres.serverURL(), timeout: timeout)
    }
}
