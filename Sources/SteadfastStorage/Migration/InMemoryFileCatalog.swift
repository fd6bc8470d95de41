/// A ``FileCatalog`` kept in memory: for tests, tools and single-process experiments.
public actor InMemoryFileCatalog: FileCatalog {
    private var records: [String: CatalogFile] = [:]
    private var assignments: [FileType: String] = [:]

    /// Creates a catalogue holding `files`.
    public init(files: [CatalogFile] = []) {
        for file in files { records[file.id] = file }
    }

    /// Adds or replaces a record.
    public func add(_ file: CatalogFile) {
        records[file.id] = file
    }

    /// The record with this id.
    public func file(id: String) -> CatalogFile? {
        records[id]
    }

    /// Every record, ordered by id.
    public func allFiles() -> [CatalogFile] {
        records.values.sorted { $0.id < $1.id }
    }

    public func files(of type: FileType, after afterID: String?, limit: Int) -> [CatalogFile] {
        let ofType = records.values.filter { $0.type == type }.sorted { $0.id < $1.id }
        let start = afterID.map { id in ofType.firstIndex { $0.id > id } ?? ofType.count } ?? 0
        return Array(ofType[start...].prefix(limit))
    }

    public func files(of type: FileType, missingFrom target: String, after afterID: String?, limit: Int) -> [CatalogFile] {
        let missing = records.values.filter { file in
            file.type == type && !file.locations.contains(target) && afterID.map { file.id > $0 } ?? true
        }
        return Array(missing.sorted { $0.id < $1.id }.prefix(limit))
    }

    public func markVerified(fileID: String, on target: String) {
        records[fileID]?.locations.insert(target)
    }

    public func switchTarget(of type: FileType, to target: String) {
        assignments[type] = target
    }

    public func currentTarget(of type: FileType) -> String? {
        assignments[type]
    }
}
