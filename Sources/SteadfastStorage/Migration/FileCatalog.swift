/// What the migration engine (and route refreshing) needs from the file catalogue: the
/// database table of file records, or ``InMemoryFileCatalog`` in tests.
///
/// Implementations must make ``markVerified(fileID:on:)`` and ``switchTarget(of:to:)``
/// durable before returning: a migration that is interrupted and re-run trusts them to know
/// what is already done.
public protocol FileCatalog: Sendable {
    /// Up to `limit` files of `type` in a stable order, starting after the file whose id is
    /// `afterID` (nil: from the start).
    func files(of type: FileType, after afterID: String?, limit: Int) async throws -> [CatalogFile]

    /// Like ``files(of:after:limit:)``, but only files with no verified copy on `target`: what a
    /// migration to `target` still has to copy.
    func files(of type: FileType, missingFrom target: String, after afterID: String?, limit: Int) async throws -> [CatalogFile]

    /// Records that target `target` holds a copy of file `fileID` verified against its SHA-256.
    func markVerified(fileID: String, on target: String) async throws

    /// Records that new files of `type` go to `target` from now on (every node follows).
    func switchTarget(of type: FileType, to target: String) async throws

    /// The target recorded for `type`, or nil when the catalogue has never switched it (the
    /// configuration's route then applies).
    func currentTarget(of type: FileType) async throws -> String?
}
