// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every Steadfast target (Swift 6 language mode is the default for tools 6.2).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Steadfast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "steadfast", targets: ["steadfast"]),
        .executable(name: "HABench", targets: ["HABench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        // Markdown of announcements and knowledge-base articles (its HTML is sanitised: docs/content.md).
        .package(url: "https://github.com/JohnSundell/Ink.git", exact: "0.6.0"),
    ],
    targets: [
        // MARK: Domain — pure business rules, no I/O.
        .target(name: "SteadfastDomain", swiftSettings: swiftSettings),

        // MARK: Concurrency — the one deadline helper and the few primitives the libraries lack.
        // (SteadfastDomain: DurationText, the one duration formatter, for its error text.)
        .target(
            name: "SteadfastConcurrency",
            dependencies: ["SteadfastDomain", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),

        // MARK: Persistence — one SQL layer over SQLite and PostgreSQL, migrations, repositories.
        // (CSteadfastSQLite: one C call Swift cannot make — sqlite3_db_config is variadic.)
        .target(
            name: "CSteadfastSQLite",
            dependencies: [.product(name: "SQLiteNIO", package: "sqlite-nio")]
        ),
        .target(
            name: "SteadfastPersistence",
            dependencies: [
                "SteadfastDomain",
                "SteadfastConcurrency",
                "CSteadfastSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                // For the SQLite it vendors (module VaporCSQLite), used through the C API: see SQLiteConnectionHandle.
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Sessions — database-backed session store for hummingbird-auth.
        .target(
            name: "SteadfastSessions",
            dependencies: [
                "SteadfastDomain",
                "SteadfastPersistence",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Jobs — the cluster-safe scheduler: schedules, claims with leases and fencing tokens, the runtime service.
        .target(
            name: "SteadfastJobs",
            dependencies: [
                "SteadfastDomain",
                "SteadfastPersistence",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Mail — the e-mail outbox, templates (files), SMTP delivery on SwiftNIO, MIME building and parsing.
        .target(
            name: "SteadfastMail",
            dependencies: [
                "SteadfastDomain",
                "SteadfastConcurrency",
                "SteadfastPersistence",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Templates")],
            swiftSettings: swiftSettings
        ),

        // MARK: Services — application use cases (accounts, ...), over domain and persistence.
        .target(
            name: "SteadfastServices",
            dependencies: [
                "SteadfastDomain",
                "SteadfastPersistence",
                "SteadfastMail",
                "SteadfastStorage",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Ink", package: "Ink"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Configuration — the node's typed configuration (file, environment, flags).
        .target(
            name: "SteadfastConfig",
            dependencies: [
                "SteadfastDomain",
                "SteadfastStorage",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Web — the HTTP node: routes, middleware, templates, health.
        .target(
            name: "SteadfastWeb",
            dependencies: [
                "SteadfastDomain",
                "SteadfastConcurrency",
                "SteadfastPersistence",
                "SteadfastMail",
                "SteadfastSessions",
                "SteadfastServices",
                "SteadfastConfig",
                "SteadfastStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "SteadfastJobs",
                .product(name: "Hummingbird", package: "hummingbird"),
                // HTTP1Channel and HTTPServerBuilder: the node's server (EventLoopBoundChannel).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                // NIOThreadPool: the PDF renderer's file work, off the request's event loop.
                .product(name: "NIOPosix", package: "swift-nio"),
                // ProcessControl: one way to spawn and reap a child (the invoice PDF renderer).
                "SteadfastCluster",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                // multipart/form-data bodies of the support pages' upload forms.
                .product(name: "MultipartKit", package: "multipart-kit"),
            ],
            // Page templates kept as .mustache files (loaded with MustacheLibrary(directory:)),
            // and the one stylesheet and script the pages load (served at /assets/).
            resources: [.copy("Templates"), .copy("Assets")],
            swiftSettings: swiftSettings
        ),

        // MARK: Balancer — the SwiftNIO HTTP load balancer (self-contained).
        .target(
            name: "SteadfastBalancer",
            dependencies: [
                // For the one duration grammar (DurationText); the domain imports no server or database.
                "SteadfastDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Cluster — `steadfast cluster`: a whole cluster on one machine (components, processes, state, readiness).
        .target(
            name: "SteadfastCluster",
            dependencies: [
                "SteadfastDomain",
                "SteadfastConcurrency",
                "SteadfastSigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: SigV4 — AWS Signature Version 4 signer (headers, presigned URLs); Crypto + Foundation only.
        .target(
            name: "SteadfastSigV4",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Storage — file storage abstraction, local/NAS and S3 backends, targets, migration.
        .target(
            name: "SteadfastStorage",
            dependencies: [
                "SteadfastDomain",
                "SteadfastConcurrency",
                "SteadfastSigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Storage benchmark — `bench/storage/run.sh` builds and runs it against moto_server.
        .executableTarget(
            name: "StorageBench",
            dependencies: [
                "SteadfastStorage",
                "SteadfastSigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "bench/storage/StorageBench",
            swiftSettings: swiftSettings
        ),

        // MARK: Billing benchmark — `bench/billing/run.sh` builds it and runs it against real nodes.
        .executableTarget(
            name: "BillingBench",
            dependencies: [
                "SteadfastDomain",
                "SteadfastPersistence",
                "SteadfastServices",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/billing/BillingBench",
            swiftSettings: swiftSettings
        ),

        // MARK: Chaos — `steadfast chaos`: load, fault injection, audit, targets and reports against a `steadfast cluster`.
        .target(
            name: "SteadfastChaos",
            dependencies: [
                "SteadfastDomain",
                // ProcessControl: one way to spawn and reap a child process.
                "SteadfastCluster",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The report's HTML templates, kept as .mustache files.
            resources: [.copy("Templates")],
            swiftSettings: swiftSettings
        ),

        // MARK: The thin command-line front end.
        .executableTarget(
            name: "steadfast",
            dependencies: [
                "SteadfastDomain",
                "SteadfastConcurrency",
                "SteadfastConfig",
                "SteadfastPersistence",
                "SteadfastMail",
                "SteadfastWeb",
                "SteadfastBalancer",
                "SteadfastJobs",
                "SteadfastCluster",
                "SteadfastChaos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Test support — real-server harnesses (PostgreSQL, processes, free ports).
        .target(
            name: "SteadfastTestSupport",
            dependencies: [
                "SteadfastDomain",
                "SteadfastConcurrency",
                "SteadfastPersistence",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SteadfastTestSupport",
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (run with bench/*/run).
        .executableTarget(
            name: "HABench",
            dependencies: ["SteadfastTestSupport"],
            path: "bench/ha/HABench",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "JobsBench",
            dependencies: ["SteadfastJobs", "SteadfastPersistence", "SteadfastTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "bench/jobs/JobsBench",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "SteadfastJobsTests",
            dependencies: [
                "SteadfastJobs",
                "SteadfastPersistence",
                "SteadfastDomain",
                "SteadfastTestSupport",
                "steadfast",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastSigV4Tests",
            dependencies: ["SteadfastSigV4", "SteadfastTestSupport"],
            resources: [.copy("Oracle")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastStorageTests",
            dependencies: [
                "SteadfastStorage",
                "SteadfastConcurrency",
                "SteadfastSigV4",
                "SteadfastTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Scripts")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastMailTests",
            dependencies: [
                "SteadfastMail", "SteadfastPersistence", "SteadfastDomain", "SteadfastTestSupport", "SteadfastServices", "SteadfastWeb", "SteadfastConfig", "steadfast",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastClusterTests",
            dependencies: [
                "SteadfastCluster",
                "SteadfastBalancer",
                "SteadfastTestSupport",
                "steadfast",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastChaosTests",
            dependencies: [
                "SteadfastChaos", "SteadfastTestSupport", "steadfast",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SteadfastDomainTests", dependencies: ["SteadfastDomain"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SteadfastConcurrencyTests",
            dependencies: ["SteadfastConcurrency", "SteadfastTestSupport", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastPersistenceTests",
            dependencies: [
                "SteadfastPersistence", "SteadfastServices", "SteadfastSessions", "SteadfastTestSupport", "SteadfastConcurrency",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastWebTests",
            dependencies: [
                "SteadfastWeb", "SteadfastConfig", "SteadfastServices", "SteadfastPersistence", "SteadfastDomain", "SteadfastJobs", "SteadfastConcurrency",
                "SteadfastTestSupport", "steadfast",
                // HTTPServerBuilder: the in-process server with a handler that records the node's writes.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                // Whether a handler runs on an event loop (EventLoopBoundChannelTests).
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastBalancerTests",
            dependencies: [
                "SteadfastBalancer",
                "SteadfastTestSupport",
                "steadfast",
                "SteadfastTestBackend",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                // EmbeddedEventLoop: the health checker's timing, driven by the test.
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A real HTTP backend process for the balancer's live tests (built because the tests depend on it).
        .executableTarget(
            name: "SteadfastTestBackend",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/SteadfastTestBackend",
            swiftSettings: swiftSettings
        ),
    ]
)
