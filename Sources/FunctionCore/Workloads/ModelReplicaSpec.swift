/// A ModelReplica's spec, validated: after parsing, code works with typed values only.
public struct ModelReplicaSpec: Sendable, Hashable {
    /// The InferenceCluster the replica runs on.
    public var clusterName: String
    /// The ModelCache the pods mount, if any.
    public var cacheName: String?
    /// `spec.workers`.
    public var workers: WorkersSpec

    /// Parses and validates `spec`; every broken rule is reported.
    public static func parse(_ spec: Value?) -> Result<ModelReplicaSpec, FieldErrors> {
        var v = Validator()
        let clusterName = v.name(
            spec?[path: "inferenceClusterRef", "name"], "spec.inferenceClusterRef.name", of: "InferenceCluster",
            required: true)
        let cacheName = v.name(spec?[path: "modelCacheRef", "name"], "spec.modelCacheRef.name", of: "ModelCache")
        let workers = WorkersSpec.parse(spec?["workers"], &v)
        guard v.errors.isEmpty, let clusterName, let workers else { return .failure(FieldErrors(v.errors)) }
        return .success(ModelReplicaSpec(clusterName: clusterName, cacheName: cacheName, workers: workers))
    }
}
