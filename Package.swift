// swift-tools-version:6.2
// ForYou: a self-hosted "For You" feed engine. See README.md for the source layout.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "foryou",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ForYou", targets: ["ForYou"]),
        .library(name: "ForYouSQLite", targets: ["ForYouSQLite"]),
        .library(name: "ForYouPostgres", targets: ["ForYouPostgres"]),
        .library(name: "ForYouServer", targets: ["ForYouServer"]),
        .library(name: "ForYouTesting", targets: ["ForYouTesting"]),
        .executable(name: "foryou", targets: ["foryou"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
    ],
    targets: [
        // The engine: no networking, no server dependency. Crypto signs and verifies algorithm packages,
        // chains the audit log and hashes API keys.
        .target(name: "ForYou", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        // The embedded, durable default store.
        .target(
            name: "ForYouSQLite",
            dependencies: ["ForYou", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // The store for deployments that outgrow one machine: PostgreSQL, shared by several servers.
        .target(
            name: "ForYouPostgres",
            dependencies: [
                "ForYou",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP API: a thin shell over the engine.
        .target(
            name: "ForYouServer",
            dependencies: [
                "ForYou",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // The feed page and the operator console: plain HTML, CSS and JavaScript, no build step.
            resources: [.copy("Web")],
            swiftSettings: swiftSettings
        ),
        // Shipped test support: the store contract checks, a manual clock, small worlds.
        .target(name: "ForYouTesting", dependencies: ["ForYou"], swiftSettings: swiftSettings),
        // The one executable.
        .executableTarget(
            name: "foryou",
            dependencies: [
                "ForYou", "ForYouSQLite", "ForYouPostgres", "ForYouServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ForYouTests", dependencies: ["ForYou", "ForYouTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ForYouSQLiteTests",
            dependencies: ["ForYou", "ForYouSQLite", "ForYouTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ForYouPostgresTests",
            dependencies: ["ForYou", "ForYouPostgres", "ForYouTesting", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ForYouServerTests",
            dependencies: [
                "ForYou", "ForYouServer", "ForYouSQLite", "ForYouTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "foryouTests",
            dependencies: [
                "foryou", "ForYou", "ForYouSQLite", "ForYouPostgres", "ForYouTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
