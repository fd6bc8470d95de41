/// One page of a listing by prefix, in ascending key order (UTF-8 byte order).
public struct StorageListPage: Sendable {
    /// The objects of this page.
    public var objects: [StoredObjectInfo]
    /// Pass to the next `list` call to continue; `nil` on the last page.
    public var continuationToken: String?

    /// Creates a page.
    public init(objects: [StoredObjectInfo], continuationToken: String?) {
        self.objects = objects
        self.continuationToken = continuationToken
    }
}
