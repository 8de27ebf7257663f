import Foundation
import FunctionCore
import FunctionYAML

/// The status schemas of the XRDs in apis/, and the structural pruning the API
/// server applies to every status written: fields the schema does not declare
/// are dropped, unless `x-kubernetes-preserve-unknown-fields` keeps them.
enum XRDSchemas {
    /// `openAPIV3Schema.properties.status` by XR kind, with `conditions` as
    /// Crossplane adds it to every XR's CRD.
    static let status: [String: Value] = load()

    private static func load() -> [String: Value] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("apis")
        var out: [String: Value] = [:]
        for dir in ["modelcache", "modeldeployment", "modelreplica", "inferencecluster"] {
            let file = root.appendingPathComponent(dir).appendingPathComponent("definition.yaml")
            guard let text = try? String(contentsOf: file, encoding: .utf8),
                let xrd = try? YAML.parseDocument(text),
                let kind = xrd[path: "spec", "names", "kind"]?.stringValue,
                var status = xrd[path: "spec", "versions"]?.listValue?.first?[
                    path: "schema", "openAPIV3Schema", "properties", "status"]
            else { continue }
            status["properties"]?["conditions"] = crossplaneConditions
            out[kind] = status
        }
        return out
    }

    /// `status.conditions` as Crossplane declares it on every XR.
    private static let crossplaneConditions: Value = [
        "type": "array",
        "items": [
            "type": "object",
            "properties": [
                "type": ["type": "string"], "status": ["type": "string"], "reason": ["type": "string"],
                "message": ["type": "string"], "lastTransitionTime": ["type": "string"],
                "observedGeneration": ["type": "integer"],
            ],
        ],
    ]

    /// `value` pruned by `schema` as the API server prunes a structural schema.
    static func prune(_ value: Value, _ schema: Value?) -> Value {
        guard let schema else { return value }
        switch value {
        case .object(let fields):
            let properties = schema["properties"]?.objectValue
            let additional = schema["additionalProperties"]
            let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
            var out = Fields()
            for (key, item) in fields {
                if let p = properties?[key] {
                    out[key] = prune(item, p)
                } else if let additional, additional.objectValue != nil {
                    out[key] = prune(item, additional)
                } else if additional?.boolValue == true || preserve {
                    out[key] = item
                }
            }
            return .object(out)
        case .list(let items):
            return .list(items.map { prune($0, schema["items"]) })
        default:
            return value
        }
    }
}
