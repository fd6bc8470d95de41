/// What a migration did, for the command to print and for the operator to act on.
public struct MigrationReport: Sendable {
    /// One file that could not be migrated, and why.
    public struct Failure: Sendable, Hashable {
        /// The file's catalogue id.
        public var fileID: String
        /// Its key.
        public var key: String
        /// What went wrong.
        public var reason: String
    }

    /// The type migrated.
    public var type: FileType
    /// The destination target.
    public var target: String
    /// Files of the type.
    public var filesTotal: Int = 0
    /// Files copied in this run.
    public var copied: Int = 0
    /// Files already marked verified on the target (from an earlier run): not touched.
    public var alreadyVerified: Int = 0
    /// Files found on the target from an interrupted run, verified by reading, not copied.
    public var verifiedInPlace: Int = 0
    /// Bytes copied in this run.
    public var bytesCopied: Int64 = 0
    /// Files that failed.
    public var failures: [Failure] = []
    /// Whether the type now goes to the target (only when every file the catalogue held before
    /// the last copy pass was verified there).
    public var switched: Bool = false
    /// Files still without a verified copy on the target when the run ended: uploaded to the
    /// old target by a node that had not yet seen the switch, after the settle time. A re-run
    /// copies them.
    public var leftOnOldTarget: Int = 0

    /// `true` when the type was switched and every file is on the target.
    public var isComplete: Bool { failures.isEmpty && switched && leftOnOldTarget == 0 }

    /// One line: files, copies (with bytes), already there, verified in place, failed.
    public var summary: String {
        "\(filesTotal) files, \(copied) copied (\(MigrationProgress.bytes(bytesCopied))), \(alreadyVerified) already there, "
            + "\(verifiedInPlace) verified in place, \(failures.count) failed"
    }
}
