/// The HuggingFace token of a gated model: where Jobs read it, and whether it is usable.
/// Only that is ever read: the token's value never passes into the output.
extension ModelCacheComposer {
    /// The token Secret on the control plane, when the answer holds the one asked for.
    static func controlPlaneToken(_ ref: SecretKeyRef, request: RunRequest) -> Value? {
        request.required(.tokenSecret)?.first { $0.object[path: "metadata", "name"]?.stringValue == ref.name }?.object
    }

    /// Where Jobs read the token (modelcache.md §4): a Secret of that name on the
    /// control plane is copied to every cluster; without one, the proposal's
    /// convention applies and each workload cluster holds it in the remote namespace.
    static func tokenSource(_ ref: SecretKeyRef, namespace: String, request: RunRequest) -> TokenSource {
        controlPlaneToken(ref, request: request) == nil
            ? .workloadCluster(secretName: ref.name, key: ref.key)
            : .controlPlane(secretName: ref.name, namespace: namespace, key: ref.key)
    }

    /// Why the control-plane token Secret cannot be used (it lacks the key, or
    /// its value is empty), or nil when it can or when there is none.
    static func tokenProblem(_ ref: SecretKeyRef, namespace: String, request: RunRequest) -> String? {
        guard let secret = controlPlaneToken(ref, request: request) else { return nil }
        let value = secret[path: "data", ref.key]?.stringValue ?? secret[path: "stringData", ref.key]?.stringValue
        guard let value, !value.isEmpty else {
            return "Secret \(namespace)/\(ref.name) named by spec.artifact.source.huggingFace.tokenSecretRef has no "
                + "non-empty key \(ref.key)"
        }
        return nil
    }
}
