/// A staff configuration list shown as one complete page and offered whole in one drop-down
/// (docs/support.md, "Short lists"). ``limit`` is the one cap: the list query reads at most that
/// many rows and creating one more when the list holds that many is refused (409), so nothing
/// created can silently fall off the page.
public enum ShortList: String, Sendable, CaseIterable {
    case departments = "departments"
    case cannedReplies = "canned replies"
    case staffRoles = "staff roles"
    case kbCategories = "knowledge-base categories"
    case downloadCategories = "download categories"

    /// The most rows each list holds, far above what they are for.
    public static let limit = 500

    /// Why a create was refused once the list holds ``limit`` rows.
    public var fullMessage: String {
        "there are already \(Self.limit) \(rawValue), the most this list holds; delete one you no longer need first"
    }
}
