import Foundation

/// JSON text for option selections (option id → choice id), sorted so equal maps store equally.
enum SelectionsCoding {
    static func encode(_ selections: [UUID: UUID]) -> String {
        let pairs = selections.map { (key: $0.key.uuidString.lowercased(), value: $0.value.uuidString.lowercased()) }.sorted { $0.key < $1.key }
        return "{" + pairs.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    static func decode(_ text: String) throws -> [UUID: UUID] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] else {
            throw DatabaseError(.decoding, message: "selections are not a JSON object")
        }
        var result: [UUID: UUID] = [:]
        for (key, value) in object {
            guard let option = UUID(uuidString: key), let choice = UUID(uuidString: value) else {
                throw DatabaseError(.decoding, message: "selections hold a value that is not a UUID")
            }
            result[option] = choice
        }
        return result
    }
}
