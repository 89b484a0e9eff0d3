// SPDX-License-Identifier: Apache-2.0

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The built `foryou` executable, run as a child process, for tests that need a real process:
/// crash recovery, signals, the data-folder lock.
final class ServerProcess: Sendable {
    let process: Process
    let port: Int
    private let errorOutput: OutputBuffer

    /// The `foryou` binary built beside the test bundle.
    static var executable: URL {
        get throws {
            var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("foryou")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
            throw TestFailure("the foryou executable was not found beside \(CommandLine.arguments[0]); run `swift build` first")
        }
    }

    /// Runs `foryou` with `arguments` and returns once it exits, with its status and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, errorOutput: String) {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts `foryou serve --data folder --port 0` and waits for its ready line.
    convenience init(dataFolder: String) async throws {
        try await self.init(arguments: ["serve", "--data", dataFolder, "--port", "0"])
    }

    /// Starts `foryou` with `arguments` (a `serve` on port 0) and waits for its ready line.
    init(arguments: [String]) async throws {
        let process = Process()
        process.executableURL = try Self.executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let output = OutputBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            output.append(String(decoding: handle.availableData, as: UTF8.self))
        }
        try process.run()
        var port: Int?
        for _ in 0..<600 where port == nil {
            try await Task.sleep(for: .milliseconds(50))
            let text = output.text
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
            if !process.isRunning { break }
        }
        guard let port else {
            process.terminate()
            throw TestFailure("foryou serve did not become ready: \(output.text)")
        }
        self.process = process
        self.port = port
        self.errorOutput = output
    }

    /// What the server wrote to standard error so far.
    var log: String { errorOutput.text }

    /// Sends a signal without waiting.
    func send(signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit; returns its status.
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Sends a signal and waits for the process to exit.
    func stop(signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// One HTTP request with a JSON body; returns status and body.
    func request(
        _ method: HTTPMethod, _ path: String, json: String? = nil, key: String? = nil, timeout: TimeAmount = .seconds(30)
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), String(buffer: body))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Text collected from a pipe on another thread.
final class OutputBuffer: Sendable {
    private let storage = Mutex("")
    func append(_ text: String) { storage.withLock { $0 += text } }
    var text: String { storage.withLock { $0 } }
}
