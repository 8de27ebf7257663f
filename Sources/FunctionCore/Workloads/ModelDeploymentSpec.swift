/// A ModelDeployment's spec, validated: after parsing, code works with typed values only.
public struct ModelDeploymentSpec: Sendable, Hashable {
    /// How many replicas to place, 1 to 10.
    public var replicas: Int64
    /// `spec.clusterSelector.matchLabels`; empty selects every cluster.
    public var matchLabels: [String: String]
    /// The ModelCache the replicas mount, if any.
    public var cacheName: String?
    /// `spec.modelCacheRef` as written, copied into every replica.
    public var cacheRef: Value?
    /// `spec.workers`, copied into every replica.
    public var workers: WorkersSpec

    /// Parses and validates `spec`; every broken rule is reported.
    public static func parse(_ spec: Value?) -> Result<ModelDeploymentSpec, FieldErrors> {
        var v = Validator()
        let replicas = v.integer(spec?["replicas"], "spec.replicas", in: 1...10, required: true)
        let labels = v.labels(spec?[path: "clusterSelector", "matchLabels"], "spec.clusterSelector.matchLabels")
        let cacheName = v.name(spec?[path: "modelCacheRef", "name"], "spec.modelCacheRef.name", of: "ModelCache")
        let workers = WorkersSpec.parse(spec?["workers"], &v)
        guard v.errors.isEmpty, let replicas, let workers else { return .failure(FieldErrors(v.errors)) }
        return .success(
            ModelDeploymentSpec(
                replicas: replicas, matchLabels: labels, cacheName: cacheName, cacheRef: spec?["modelCacheRef"],
                workers: workers))
    }
}
