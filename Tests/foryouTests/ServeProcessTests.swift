// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import ForYou
import ForYouSQLite
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Tests that run the real `foryou serve` binary.
@Suite(.serialized)
struct ServeProcessTests {
    func temporaryFolder() -> String {
        NSTemporaryDirectory() + "foryou-process-" + UUID().uuidString
    }

    static let items = (0..<20).map {
        #"{"id":"v\#($0)","creator":"c\#($0 % 5)","tags":["t\#($0 % 3)"],"duration_ms":20000}"#
    }.joined(separator: ",")

    /// Every event id in the store's log, in log order.
    func storedEventIDs(_ store: SQLiteStore) async throws -> [String] {
        var stored: [String] = []
        var position: Int64 = 0
        while true {
            let page = try await store.page(after: position, limit: 5_000)
            if page.events.isEmpty { return stored }
            stored += page.events.map(\.id.rawValue)
            position = page.lastPosition
        }
    }

    func batch(_ number: Int, size: Int) -> (json: String, ids: [String]) {
        let ids = (0..<size).map { "b\(number)-e\($0)" }
        let events = ids.enumerated().map { #"{"id":"\#($0.element)","user":"u\#($0.offset % 37)","item":"v\#($0.offset % 20)","type":"view","watch_ms":\#($0.offset * 97 % 30000)}"# }
        return (#"{"events":[\#(events.joined(separator: ","))]}"#, ids)
    }

    /// kill -9 while batches are in flight: every acknowledged event is in the store afterwards, once.
    @Test func everyAcknowledgedEventSurvivesKillDashNine() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try await ServerProcess(dataFolder: folder)
        #expect(try await server.request(.PUT, "/v1/items", json: #"{"items":[\#(Self.items)]}"#).status == 200)

        // Two writers send batches until the server dies; the kill lands while requests are in flight.
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for writer in 0..<2 {
                group.addTask {
                    var acked: [String] = []
                    for number in stride(from: writer, to: 10_000, by: 2) {
                        let (json, ids) = batch(number, size: 200)
                        guard let response = try? await server.request(.POST, "/v1/events", json: json), response.status == 200 else { break }
                        #expect(response.body.contains(#""accepted":200"#))
                        acked += ids
                    }
                    return acked
                }
            }
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(server.stop(signal: SIGKILL) == SIGKILL)
            var all: [String] = []
            for try await acked in group { all += acked }
            return all
        }
        print("acknowledged \(acknowledged.count) events before SIGKILL")
        #expect(acknowledged.count >= 400, "too few batches were acknowledged before the kill to prove anything")

        let store = try SQLiteStore(directory: folder)
        let stored = try await storedEventIDs(store)
        #expect(Set(stored).count == stored.count, "an event was stored twice")
        let missing = Set(acknowledged).subtracting(stored)
        #expect(missing.isEmpty, "\(missing.count) acknowledged events were lost, e.g. \(missing.prefix(3))")
    }

    @Test func aSecondServeOnTheSameFolderRefusesAndSIGTERMStopsCleanly() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try await ServerProcess(dataFolder: folder)
        #expect(server.log.contains("foryou ready: listening on http://127.0.0.1:\(server.port)"))
        #expect(server.log.split(separator: "\n").count == 1, "serve logs one line when ready: \(server.log)")

        let second = try ServerProcess.run(["serve", "--data", folder, "--port", "0"])
        #expect(second.status == 1)
        #expect(second.errorOutput.contains("error: the data folder \(folder) is in use by another foryou process"))

        #expect(try await server.request(.GET, "/healthz").status == 200)
        #expect(server.stop(signal: SIGTERM) == 0)
        #expect(server.log.contains("foryou stopped"))

        // The folder is free again.
        let again = try await ServerProcess(dataFolder: folder)
        #expect(again.stop(signal: SIGINT) == 0)
    }

    /// SIGTERM while batches are in flight: the server stops accepting, answers what it has begun, and
    /// exits 0; what is stored is exactly what was acknowledged (nothing half-written, nothing dropped
    /// after being read).
    @Test func sigtermDrainsInFlightRequests() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try await ServerProcess(dataFolder: folder)
        #expect(try await server.request(.PUT, "/v1/items", json: #"{"items":[\#(Self.items)]}"#).status == 200)
        let (acknowledged, failed) = try await withThrowingTaskGroup(of: ([String], Int).self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var acked: [String] = []
                    var failures = 0
                    for number in stride(from: writer, to: 10_000, by: 4) {
                        let (json, ids) = batch(number, size: 500)
                        // A short deadline: after the exit, the client retries connecting until it.
                        guard let response = try? await server.request(.POST, "/v1/events", json: json, timeout: .seconds(3)) else {
                            failures += 1
                            break
                        }
                        #expect(response.status == 200, "\(response.body)")
                        if response.status == 200 { acked += ids }
                    }
                    return (acked, failures)
                }
            }
            try await Task.sleep(for: .milliseconds(800))
            server.send(signal: SIGTERM)
            var acked: [String] = []
            var failures = 0
            for try await part in group {
                acked += part.0
                failures += part.1
            }
            return (acked, failures)
        }
        #expect(server.waitForExit() == 0)
        #expect(server.log.contains("foryou stopped"), "\(server.log)")
        #expect(acknowledged.count >= 1000, "too few batches before SIGTERM to prove anything")
        print("SIGTERM drain: \(acknowledged.count) events acknowledged, \(failed) requests refused after the stop began")

        let store = try SQLiteStore(directory: folder)
        let stored = try await storedEventIDs(store)
        #expect(stored.count == Set(stored).count, "an event was stored twice")
        #expect(Set(stored) == Set(acknowledged), "stored \(stored.count) events, acknowledged \(acknowledged.count): a request was half-handled")
        #expect(AuditChain.verify(lines: try await store.auditLines()).isIntact)
    }

    /// `serve --train-every 1`: a model appears without any request to train, once events arrived,
    /// and the audit log says the schedule trained it.
    @Test func theScheduleTrainsAModelOnceEventsArrive() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try await ServerProcess(arguments: ["serve", "--data", folder, "--port", "0", "--train-every", "1"])
        defer { _ = server.stop(signal: SIGTERM) }
        #expect(try await server.request(.PUT, "/v1/items", json: #"{"items":[\#(Self.items)]}"#).status == 200)
        let likes = (0..<60).map { #"{"id":"l\#($0)","user":"u\#($0 % 10)","item":"v\#(($0 * 7) % 20)","type":"like"}"# }
        #expect(try await server.request(.POST, "/v1/events", json: #"{"events":[\#(likes.joined(separator: ","))]}"#).status == 200)
        var trained = false
        for _ in 0..<300 where !trained {
            try await Task.sleep(for: .milliseconds(100))
            trained = try await server.request(.GET, "/v1/models/current").status == 200
        }
        #expect(trained, "no model after 30 s of --train-every 1: \(server.log)")
        let audit = try await server.request(.GET, "/v1/audit?limit=50").body
        #expect(audit.contains(#"\"actor\":\"schedule\""#) || audit.contains(#""actor":"schedule""#), "\(audit)")
    }
}
