import AsyncHTTPClient
import Foundation
import Logging
import SteadfastDomain
import Synchronization

/// The storage targets of a node and the route of each file type: the one object features
/// ask for storage.
///
/// ```swift
/// let registry = try StorageRegistry(configuration: config.storage, linkSecret: secret, httpClient: client)
/// let tickets = registry.storage(for: .ticketAttachments)       // current target, type prefix
/// let stored = try await tickets.write(key: "1234/log.txt", body: body, size: n, contentType: "text/plain")
/// // record (key, size, stored.sha256, tickets.targetName) in the file catalogue
/// let file = try registry.storage(for: .ticketAttachments, on: record.target)  // read where it lives
/// ```
///
/// Routes can change at runtime (``switchTarget(of:to:)``, ``refreshRoutes(from:)``) without a
/// restart: a migration switches a type in the catalogue, and every node picks the change up
/// the next time it refreshes from the catalogue.
public final class StorageRegistry: Sendable {
    /// The backends by target name.
    public let targets: [String: any FileStorage]
    /// Each target's own key prefix (may be empty).
    public let targetPrefixes: [String: String]
    private let routes: Mutex<[FileType: StorageRoute]>

    /// Builds every target of `configuration`. S3 credentials not in the configuration come
    /// from `environment` (`AWS_ACCESS_KEY_ID`, ...). The caller owns `httpClient`. `clock` (the
    /// node's) dates the targets' download-link expiries and S3 signatures, and S3's retry
    /// back-off sleeps on it.
    public convenience init(
        configuration: StorageConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        linkSecret: String? = nil,
        httpClient: HTTPClient,
        clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "steadfast.storage")
    ) throws {
        let routes = try configuration.resolvedRoutes()
        var targets: [String: any FileStorage] = [:]
        var prefixes: [String: String] = [:]
        for target in configuration.targets {
            targets[target.name] = try target.makeStorage(
                environment: environment, linkSecret: linkSecret, httpClient: httpClient, logger: logger, clock: clock
            )
            prefixes[target.name] = target.keyPrefix ?? ""
        }
        try self.init(targets: targets, targetPrefixes: prefixes, routes: routes)
    }

    /// Builds a registry from ready backends (tests, tools).
    public init(targets: [String: any FileStorage], targetPrefixes: [String: String] = [:], routes: [FileType: StorageRoute]) throws {
        for type in FileType.allCases {
            guard let route = routes[type] else {
                throw StorageError(.invalidConfiguration, "file type '\(type.rawValue)' has no storage target")
            }
            guard targets[route.target] != nil else {
                throw StorageError(.unknownTarget, "file type '\(type.rawValue)' is routed to storage target '\(route.target)', which is not configured")
            }
        }
        self.targets = targets
        self.targetPrefixes = targetPrefixes
        self.routes = Mutex(routes)
    }

    /// Target names, sorted.
    public var targetNames: [String] { targets.keys.sorted() }

    /// The current route of `type`.
    public func route(for type: FileType) -> StorageRoute {
        routes.withLock { $0[type]! }
    }

    /// Where new files of `type` go: the type's current target, under its prefix.
    public func storage(for type: FileType) -> PrefixedFileStorage {
        let route = self.route(for: type)
        return view(target: route.target, prefix: route.prefix)
    }

    /// Files of `type` kept on target `name` (e.g. where a file's record says it lives).
    public func storage(for type: FileType, on name: String) throws -> PrefixedFileStorage {
        guard targets[name] != nil else {
            throw StorageError(.unknownTarget, "there is no storage target named '\(name)' (known: \(targetNames.joined(separator: ", ")))")
        }
        return view(target: name, prefix: route(for: type).prefix)
    }

    private func view(target: String, prefix: String) -> PrefixedFileStorage {
        PrefixedFileStorage(targetName: target, prefix: (targetPrefixes[target] ?? "") + prefix, base: targets[target]!)
    }

    /// Sends new files of `type` to target `name` from now on (on this node).
    public func switchTarget(of type: FileType, to name: String) throws {
        guard targets[name] != nil else {
            throw StorageError(.unknownTarget, "there is no storage target named '\(name)' (known: \(targetNames.joined(separator: ", ")))")
        }
        routes.withLock { $0[type]!.target = name }
    }

    /// Applies the catalogue's current target of every type (call every few seconds, or on a
    /// change notification, so a migration's switch reaches every node without a restart).
    /// Types the catalogue has no opinion on keep their configured target.
    public func refreshRoutes(from catalog: any FileCatalog) async throws {
        for type in FileType.allCases {
            if let name = try await catalog.currentTarget(of: type), name != route(for: type).target {
                try switchTarget(of: type, to: name)
            }
        }
    }

    /// The cheap check of every target, concurrently (for `/readyz`).
    public func healthCheck(timeout: Duration = .seconds(5)) async -> [TargetCheck] {
        await eachTarget { name, storage in
            await StorageProbe.healthCheck(target: name, storage: storage, timeout: timeout)
        }
    }

    /// The write/read/verify/delete probe of every target, concurrently (for `storage check`).
    public func probe(timeout: Duration = .seconds(30)) async -> [TargetCheck] {
        let prefixes = targetPrefixes
        return await eachTarget { name, storage in
            await StorageProbe.roundTrip(target: name, storage: storage, keyPrefix: prefixes[name] ?? "", timeout: timeout)
        }
    }

    private func eachTarget(_ check: @escaping @Sendable (String, any FileStorage) async -> TargetCheck) async -> [TargetCheck] {
        await withTaskGroup(of: TargetCheck.self) { group in
            for (name, storage) in targets { group.addTask { await check(name, storage) } }
            var results: [TargetCheck] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.target < $1.target }
        }
    }
}
