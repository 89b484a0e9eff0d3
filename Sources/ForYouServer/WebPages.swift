// SPDX-License-Identifier: Apache-2.0
//
// The feed page (`/`) and the operator console (`/console`): plain HTML, CSS and JavaScript files in
// `Web/`, shipped as the target's resources and read once at start. They call the public API like any
// client, with the API key the visitor gives them (kept in the browser's session storage).

import ForYou
import Foundation
import HTTPTypes
import Hummingbird

/// The web pages' files, in memory.
public struct WebPages: Sendable {
    /// Simulated viewers the feed page offers in its picker (the demo's users), with a short description.
    public var viewers: [(id: String, description: String)]
    private let files: [String: ByteBuffer]

    /// Where the pages were read from, or `nil` when they were not found (the API works without them).
    public let folder: String?

    /// Reads the pages from the target's resources: the `foryou_ForYouServer.resources` folder SwiftPM
    /// puts next to the binary, else the source tree it was built from. (Not `Bundle.module`, which
    /// stops the process when a binary was copied away from its resources.)
    public init(viewers: [(id: String, description: String)] = []) {
        self.viewers = viewers
        var files: [String: ByteBuffer] = [:]
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("foryou_ForYouServer.resources/Web").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Web").path,
        ]
        let folder = candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
        if let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            for name in names {
                if let data = FileManager.default.contents(atPath: folder + "/" + name) { files[name] = ByteBuffer(bytes: data) }
            }
        }
        self.folder = folder
        let list = viewers.map { #"{"id":"\#(Self.escape($0.id))","description":"\#(Self.escape($0.description))"}"# }
        files["viewers.json"] = ByteBuffer(string: "[" + list.joined(separator: ",") + "]")
        self.files = files
    }

    /// The file's response, with its content type; 404 `not_found` for a file the pages do not have.
    func response(for name: String) throws -> Response {
        guard let body = files[name] else {
            if folder == nil && name != "viewers.json" {
                throw ForYouError(
                    .notFound,
                    "the web pages were not found: keep the foryou_ForYouServer.resources folder next to the foryou binary when you copy it")
            }
            throw ForYouError(.notFound, "no page file named \(name)")
        }
        let type: String
        switch name.split(separator: ".").last {
        case "html": type = "text/html; charset=utf-8"
        case "js": type = "text/javascript; charset=utf-8"
        case "css": type = "text/css; charset=utf-8"
        case "json": type = "application/json"
        case "svg": type = "image/svg+xml"
        default: type = "application/octet-stream"
        }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: body))
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
