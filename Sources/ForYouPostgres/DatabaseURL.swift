// SPDX-License-Identifier: Apache-2.0

import ForYou
import Foundation
import PostgresNIO

/// A parsed `postgres://user[:password]@host[:port]/database[?sslmode=…]` URL.
struct DatabaseURL: CustomStringConvertible {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    var tls: PostgresClient.Configuration.TLS

    init(_ text: String) throws {
        func invalid(_ rule: String) -> ForYouError {
            ForYouError(.invalidArgument, "--store must be postgres://user[:password]@host[:port]/database: \(rule)")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw invalid("the scheme must be postgres://") }
        guard let host = components.host, !host.isEmpty else { throw invalid("the host is missing") }
        guard let user = components.user, !user.isEmpty else { throw invalid("the user is missing") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw invalid("the database name is missing") }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw invalid("the port must be in 1...65535") }
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.host = host
        self.port = port
        self.database = database
        sslmode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        switch sslmode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        case let other: throw invalid("sslmode must be disable, prefer or require, got \(other)")
        }
    }

    var sslmode: String
    /// The URL, password included.
    var urlString: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = user
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: sslmode)]
        return components.string ?? description
    }

    /// The URL without its password.
    var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}
