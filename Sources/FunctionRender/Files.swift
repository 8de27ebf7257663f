import FoundationEssentials
import FunctionCore
import FunctionYAML

/// Reads render inputs: a YAML file, or every `.yaml`/`.yml` file of a folder (sorted by name).
public enum RenderFiles {
    /// Every non-empty document under `path`.
    public static func documents(at path: String) throws -> [Value] {
        try documentsByFile(at: path).flatMap(\.documents)
    }

    /// Every non-empty document under `path`, each checked to be a Kubernetes
    /// object (a mapping with `apiVersion`, `kind` and `metadata.name`); the
    /// error names the file and the document's 1-based index in it.
    public static func objects(at path: String) throws -> [Value] {
        var out: [Value] = []
        for (file, documents) in try documentsByFile(at: path) {
            for (index, document) in documents.enumerated() {
                if let problem = kubernetesObjectProblem(document) {
                    throw RenderError("\(file): document \(index + 1) is not a Kubernetes object: \(problem)")
                }
                out.append(document)
            }
        }
        return out
    }

    /// Exactly one document under `path`.
    public static func single(at path: String, what: String) throws -> Value {
        let docs = try documents(at: path)
        guard docs.count == 1, docs[0].objectValue != nil else {
            throw RenderError("\(path): expected one \(what) object, found \(docs.count) documents")
        }
        return docs[0]
    }

    /// Why `document` is not a Kubernetes object, or nil when it is one.
    static func kubernetesObjectProblem(_ document: Value) -> String? {
        guard document.objectValue != nil else { return "expected a mapping with apiVersion, kind and metadata.name" }
        let fields = [
            ("apiVersion", document[path: "apiVersion"]), ("kind", document[path: "kind"]),
            ("metadata.name", document[path: "metadata", "name"]),
        ]
        for (what, value) in fields {
            guard let value else { return "\(what) is missing" }
            guard let text = value.stringValue, !text.isEmpty else { return "\(what) must be a non-empty string" }
        }
        return nil
    }

    /// The non-empty documents of each file under `path`, files in name order.
    private static func documentsByFile(at path: String) throws -> [(file: String, documents: [Value])] {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RenderError("\(path): no such file or folder")
        }
        let files: [String]
        if isDirectory {
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
            files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted(by: utf8Less)
                .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        } else {
            files = [path]
        }
        return try files.map { file in
            guard let data = FileManager.default.contents(atPath: file) else {
                throw RenderError("\(file): cannot read")
            }
            do {
                return (file, try YAML.parseStream(String(decoding: data, as: UTF8.self)).filter { !$0.isNull })
            } catch let error as YAMLError {
                throw RenderError("\(file): \(error)")
            }
        }
    }
}
