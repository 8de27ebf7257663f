import FoundationEssentials
import FunctionCore
import FunctionYAML

/// Reads render inputs: a YAML file, or every `.yaml`/`.yml` file of a folder (sorted by name).
public enum RenderFiles {
    /// Every non-empty document under `path`.
    public static func documents(at path: String) throws -> [Value] {
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
        var out: [Value] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { throw RenderError("\(file): cannot read") }
            do {
                out += try YAML.parseStream(String(decoding: data, as: UTF8.self)).filter { !$0.isNull }
            } catch let error as YAMLError {
                throw RenderError("\(file): \(error)")
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
}
