/// `spec.workers` of a ModelDeployment or ModelReplica, validated. The raw value
/// is kept so that it can be copied verbatim and so that sidecars, env and any
/// other container fields survive into the workload.
public struct WorkersSpec: Sendable, Hashable {
    /// Serving instances per replica.
    public var count: Int64
    /// GPUs per node.
    public var tensor: Int64
    /// Nodes per instance; above 1 means multi-node.
    public var pipeline: Int64
    /// `template.metadata.labels`.
    public var labels: Fields
    /// `template.metadata.annotations`.
    public var annotations: Fields
    /// Every container as written; exactly one is named `engine`.
    public var containers: [Value]
    /// `template.spec.imagePullSecrets`, as written.
    public var imagePullSecrets: Value?
    /// The whole `spec.workers` as written.
    public var raw: Value

    /// Whether an instance spans several nodes.
    public var isMultiNode: Bool { pipeline > 1 }

    /// The engine container.
    public var engine: Value { containers.first { $0["name"]?.stringValue == "engine" }! }

    /// Parses and validates `spec.workers`, reporting every broken rule into `v`.
    static func parse(_ value: Value?, _ v: inout Validator) -> WorkersSpec? {
        let field = "spec.workers"
        guard let workers = v.object(value, field) else { return nil }
        let count = v.integer(workers["count"], "\(field).count", in: 1...1000) ?? 1
        let topology = v.object(workers["topology"], "\(field).topology")
        let tensor = v.integer(topology?["tensor"], "\(field).topology.tensor", in: 1...64, required: true)
        let pipeline = v.integer(topology?["pipeline"], "\(field).topology.pipeline", in: 1...64) ?? 1
        let template = v.object(workers["template"], "\(field).template")
        let metadata = v.object(template?["metadata"], "\(field).template.metadata", required: false)
        var labels: Fields = [:]
        var annotations: Fields = [:]
        if let metadata {
            labels = Fields(v.labels(metadata["labels"], "\(field).template.metadata.labels"))
            if let a = metadata["annotations"], !a.isNull {
                if let o = a.objectValue, o.values.allSatisfy({ $0.stringValue != nil }) {
                    annotations = o
                } else {
                    v.fail("\(field).template.metadata.annotations", a, "must be a map of strings")
                }
            }
        }
        let podSpec = v.object(template?["spec"], "\(field).template.spec")
        let containers = parseContainers(podSpec, &v)
        let pullSecrets = podSpec?["imagePullSecrets"]
        if let ps = pullSecrets, !ps.isNull,
            !(ps.listValue?.allSatisfy { $0["name"]?.stringValue.map(Rules.isDNSSubdomain) ?? false } ?? false)
        {
            v.fail("\(field).template.spec.imagePullSecrets", ps, "must be a list of {name: <Secret name>}")
        }
        guard let tensor, let containers else { return nil }
        return WorkersSpec(
            count: count, tensor: tensor, pipeline: pipeline, labels: labels, annotations: annotations,
            containers: containers, imagePullSecrets: pullSecrets.flatMap { $0.isNull ? nil : $0 },
            raw: workers)
    }

    /// The pod template's containers, validated; nil unless there is at least
    /// one and exactly one is named `engine`.
    private static func parseContainers(_ podSpec: Value?, _ v: inout Validator) -> [Value]? {
        let field = "spec.workers.template.spec.containers"
        var containers: [Value] = []
        if let list = podSpec?["containers"] {
            if let items = list.listValue, !items.isEmpty {
                containers = items
            } else {
                v.fail(field, list, "must be a list of at least one container")
            }
        } else if podSpec != nil {
            v.fail(field, nil, "is required")
        }
        var names = Set<String>()
        for (i, c) in containers.enumerated() {
            let path = "\(field)[\(i)]"
            guard v.object(c, path) != nil else { continue }
            if let name = v.string(c["name"], "\(path).name") {
                if !Rules.isDNSLabel(name) {
                    v.fail("\(path).name", .string(name), "is not a valid container name (a DNS-1123 label)")
                } else if !names.insert(name).inserted {
                    v.fail("\(path).name", .string(name), "is used by two containers")
                }
            }
            if let image = v.string(c["image"], "\(path).image"), image.isEmpty {
                v.fail("\(path).image", .string(image), "must not be empty")
            }
            for key in ["command", "args"] {
                if let list = c[key], !list.isNull, !(list.listValue?.allSatisfy { $0.stringValue != nil } ?? false) {
                    v.fail("\(path).\(key)", list, "must be a list of strings")
                }
            }
        }
        if !containers.isEmpty, !names.contains("engine") {
            v.fail(field, nil, "must include exactly one container named engine")
        }
        return containers.isEmpty || !names.contains("engine") ? nil : containers
    }
}
