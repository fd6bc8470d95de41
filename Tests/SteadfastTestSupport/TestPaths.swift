import Foundation

/// Where things are when tests run: the built binaries and the package checkout.
public enum TestPaths {
    /// The directory holding the test bundle and the products built with it (`.build/debug`).
    public static var buildDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["STEADFAST_BUILD_DIR"] {
            return URL(fileURLWithPath: override)
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // On Linux the runner is `.build/<triple>/debug/SteadfastPackageTests.xctest`.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory
    }

    /// The `steadfast` executable built alongside the tests.
    public static var steadfastBinary: String {
        buildDirectory.appendingPathComponent("steadfast").path
    }

    /// The package root (for reading docs in tests).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A new empty temporary directory, world-traversable (PostgreSQL runs as another user).
    public static func makeTemporaryDirectory(prefix: String = "steadfast-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }
}
