// SPDX-License-Identifier: Apache-2.0
//
// The event log's idempotency keys, held in memory instead of in a UNIQUE index on disk. A client
// picks its event ids (often UUIDs), so a B-tree over them takes each new id at a random page: a batch
// of 500 events rewrote hundreds of index pages into the WAL and fsynced them. Here each stored id is
// kept as a 64-bit fingerprint (a keyed hash of its UTF-8 bytes, seeded per process) mapped to the
// position of its row, and every match is confirmed by reading that row: a fingerprint collision, or an
// entry left behind by a transaction that rolled back, never turns a new event into a duplicate.
//
// Only the process holding the data folder's lock appends, so this index sees every write. It is
// rebuilt from the log when the store opens (about 16 bytes per stored event).

import Synchronization

final class EventIDIndex: Sendable {
    /// A keyed hash of an id's UTF-8 bytes (byte equality, as SQLite compares text).
    typealias Fingerprint = @Sendable (String) -> UInt64

    private struct Entries {
        /// Fingerprint → position of the first stored id with it.
        var first: [UInt64: Int64] = [:]
        /// Fingerprint → positions of further ids with the same fingerprint (collisions: almost never).
        var more: [UInt64: [Int64]] = [:]
    }

    /// Entries split by the fingerprint's top bits: a Dictionary grows by copying itself whole, and a
    /// single one of millions of ids stalled the append that made it grow for hundreds of milliseconds.
    private let shards = Mutex([Entries](repeating: Entries(), count: EventIDIndex.shardCount))
    static let shardCount = 64
    let fingerprint: Fingerprint

    @inline(__always) private static func shard(_ fingerprint: UInt64) -> Int { Int(truncatingIfNeeded: fingerprint >> 58) }

    /// - Parameter fingerprint: the hash of ids; tests pass a weak one to force collisions.
    init(fingerprint: @escaping Fingerprint = EventIDIndex.seededHash) {
        self.fingerprint = fingerprint
    }

    /// Hasher is seeded randomly for each process, so nobody can choose ids that collide on purpose.
    @Sendable static func seededHash(_ id: String) -> UInt64 {
        var hasher = Hasher()
        var id = id
        id.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// The positions whose ids may equal an id with this fingerprint.
    func positions(of fingerprint: UInt64) -> [Int64] {
        shards.withLock { shards in
            let entries = shards[Self.shard(fingerprint)]
            guard let first = entries.first[fingerprint] else { return [] }
            return [first] + (entries.more[fingerprint] ?? [])
        }
    }

    /// Records that the id with this fingerprint is stored at `position`.
    func insert(_ fingerprint: UInt64, at position: Int64) {
        shards.withLock { shards in
            Self.insert(fingerprint, at: position, into: &shards[Self.shard(fingerprint)])
        }
    }

    private static func insert(_ fingerprint: UInt64, at position: Int64, into entries: inout Entries) {
        if entries.first[fingerprint] == nil {
            entries.first[fingerprint] = position
        } else {
            entries.more[fingerprint, default: []].append(position)
        }
    }

    /// Forgets the entry of `position` (its row was deleted, or never committed).
    func remove(_ fingerprint: UInt64, at position: Int64) {
        shards.withLock { shards in
            Self.remove(fingerprint, at: position, from: &shards[Self.shard(fingerprint)])
        }
    }

    private static func remove(_ fingerprint: UInt64, at position: Int64, from entries: inout Entries) {
        if entries.first[fingerprint] == position {
            if var more = entries.more.removeValue(forKey: fingerprint), !more.isEmpty {
                entries.first[fingerprint] = more.removeFirst()
                if !more.isEmpty { entries.more[fingerprint] = more }
            } else {
                entries.first[fingerprint] = nil
            }
        } else if var more = entries.more[fingerprint] {
            more.removeAll { $0 == position }
            entries.more[fingerprint] = more.isEmpty ? nil : more
        }
    }

    /// Makes room for `count` more entries at once.
    func reserve(_ count: Int) {
        shards.withLock { shards in
            for index in shards.indices { shards[index].first.reserveCapacity(shards[index].first.count + count / Self.shardCount) }
        }
    }

    /// How many positions are held (stored ids, plus any entries not yet found stale).
    var count: Int {
        shards.withLock { shards in
            shards.reduce(0) { total, entries in total + entries.first.count + entries.more.values.reduce(0) { $0 + $1.count } }
        }
    }
}
