import Foundation
import Testing

@testable import FunctionRender

/// Reading -o/-e/functions files: only Kubernetes objects get through, and errors name the file and document.
@Suite struct RenderFilesTests {
    /// Writes `text` to a fresh temporary file and returns its path.
    func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "render-files-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let rejected: [(name: String, yaml: String, problem: String)] = [
        (
            "Scalar", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\njust a string\n",
            "document 2 is not a Kubernetes object: expected a mapping with apiVersion, kind and metadata.name"
        ),
        ("List", "- a\n- b\n", "document 1 is not a Kubernetes object: expected a mapping"),
        (
            "NoAPIVersion", "kind: ConfigMap\nmetadata: {name: a}\n",
            "document 1 is not a Kubernetes object: apiVersion is missing"
        ),
        ("NoKind", "apiVersion: v1\nmetadata: {name: a}\n", "document 1 is not a Kubernetes object: kind is missing"),
        (
            "NoName", "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: a}\n",
            "document 1 is not a Kubernetes object: metadata.name is missing"
        ),
        (
            "NumberKind", "apiVersion: v1\nkind: 3\nmetadata: {name: a}\n",
            "document 1 is not a Kubernetes object: kind must be a non-empty string"
        ),
        (
            "EmptyName", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"\"}\n",
            "document 1 is not a Kubernetes object: metadata.name must be a non-empty string"
        ),
    ]

    @Test("A document that is not a Kubernetes object is refused, naming the file and its index", arguments: rejected)
    func rejectsNonObjects(_ c: (name: String, yaml: String, problem: String)) throws {
        let path = try file(c.yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try RenderFiles.objects(at: path)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("\(path): ") && text.contains(c.problem)
        }
    }

    @Test("Kubernetes objects are read in order; empty documents are skipped, not counted")
    func readsObjects() throws {
        let path = try file(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n"
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        let objects = try RenderFiles.objects(at: path)
        #expect(objects.map { $0[path: "metadata", "name"]?.stringValue } == ["a", "b"])
    }
}
