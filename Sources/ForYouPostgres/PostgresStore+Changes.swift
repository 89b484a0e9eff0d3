// SPDX-License-Identifier: Apache-2.0

import ForYou
import PostgresNIO

extension PostgresStore {
    /// Listens on `foryou_changes` with a connection of its own; reconnects after a second when the
    /// connection drops (followers poll meanwhile). The stream ends when the store closes or the
    /// consumer stops.
    public func changes() -> AsyncStream<StoreChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreChange.self, bufferingPolicy: .bufferingNewest(64))
        let listener = Task { [client, logger] in
            var listened = false
            while !Task.isCancelled && !self.isClosed {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            // Notifications sent while no connection listened are lost: after a
                            // reconnection, followers catch up on everything.
                            if listened { for change in StoreChange.allCases { continuation.yield(change) } }
                            listened = true
                            for try await notification in notifications {
                                if let change = StoreChange(rawValue: notification.payload) { continuation.yield(change) }
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled || self.isClosed { break }
                    logger.warning("listening for changes on PostgreSQL failed; retrying in 1 s: \(Self.explain(error))")
                }
                try? await Task.sleep(for: .seconds(1))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in listener.cancel() }
        return stream
    }
}
