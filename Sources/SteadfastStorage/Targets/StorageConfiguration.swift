/// The storage part of the portal's configuration: the targets and which file type goes where.
///
/// ```yaml
/// storage:
///   default_target: nas            # types not listed under `types` go here
///   targets: [ ... ]               # see StorageTarget
///   types:
///     ticket_attachments: { target: s3-main, prefix: tickets/ }   # prefix defaults to "<type>/"
///     downloads: { target: nas }
/// ```
/// The download-link secret of local targets is a cluster secret and is passed separately to
/// ``StorageRegistry/init(configuration:environment:linkSecret:httpClient:logger:)``.
public struct StorageConfiguration: Decodable, Sendable, Hashable {
    /// Where one file type goes, as configured.
    public struct TypeRoute: Decodable, Sendable, Hashable {
        /// Target name.
        public var target: String
        /// Key prefix for this type inside the target (default `"<type>/"`).
        public var prefix: String?

        /// Creates a route.
        public init(target: String, prefix: String? = nil) {
            self.target = target
            self.prefix = prefix
        }
    }

    /// Every target.
    public var targets: [StorageTarget]
    /// Target of the types not in `types`.
    public var defaultTarget: String?
    /// Routes by type.
    public var types: [FileType: TypeRoute]

    enum CodingKeys: String, CodingKey {
        case targets, types
        case defaultTarget = "default_target"
    }

    /// Creates a configuration in code.
    public init(targets: [StorageTarget], defaultTarget: String? = nil, types: [FileType: TypeRoute] = [:]) {
        self.targets = targets
        self.defaultTarget = defaultTarget
        self.types = types
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        targets = try container.decode([StorageTarget].self, forKey: .targets)
        defaultTarget = try container.decodeIfPresent(String.self, forKey: .defaultTarget)
        let raw = try container.decodeIfPresent([String: TypeRoute].self, forKey: .types) ?? [:]
        var types: [FileType: TypeRoute] = [:]
        for (name, route) in raw {
            guard let type = FileType(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .types, in: container,
                    debugDescription: "unknown file type '\(name)' (known: \(FileType.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            types[type] = route
        }
        self.types = types
    }

    /// The route of every file type, checked against the targets: each type has a target,
    /// every named target exists, names are unique, prefixes are valid key prefixes.
    public func resolvedRoutes() throws -> [FileType: StorageRoute] {
        var names = Set<String>()
        for target in targets {
            guard !target.name.isEmpty else { throw StorageError(.invalidConfiguration, "a storage target has an empty name") }
            guard names.insert(target.name).inserted else {
                throw StorageError(.invalidConfiguration, "two storage targets are named '\(target.name)'")
            }
            if let prefix = target.keyPrefix { try Self.checkPrefix(prefix, of: "target '\(target.name)'") }
        }
        var routes: [FileType: StorageRoute] = [:]
        for type in FileType.allCases {
            let route = types[type] ?? defaultTarget.map { TypeRoute(target: $0) }
            guard let route else {
                throw StorageError(.invalidConfiguration, "file type '\(type.rawValue)' has no storage target (add it under storage.types or set storage.default_target)")
            }
            guard names.contains(route.target) else {
                throw StorageError(.unknownTarget, "file type '\(type.rawValue)' is routed to storage target '\(route.target)', which is not configured")
            }
            let prefix = route.prefix ?? type.defaultPrefix
            try Self.checkPrefix(prefix, of: "file type '\(type.rawValue)'")
            routes[type] = StorageRoute(target: route.target, prefix: prefix)
        }
        return routes
    }

    static func checkPrefix(_ prefix: String, of owner: String) throws {
        guard !prefix.isEmpty else { return }
        guard prefix.hasSuffix("/") else {
            throw StorageError(.invalidConfiguration, "the key prefix '\(prefix)' of \(owner) must end with '/'")
        }
        do { try StorageKey.validatePrefix(prefix) } catch let error as StorageError {
            throw StorageError(.invalidConfiguration, "\(owner): \(error.message)")
        }
    }
}
