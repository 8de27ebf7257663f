/// An InferenceCluster of source `GKE`.
///
/// The proposal provisions GKE clusters (the cluster, node pools, the Filestore
/// CSI driver and the `rwxCache` StorageClass) in Modelplane's own cluster
/// composition. This package does not create cloud clusters: its composition
/// accepts such a cluster, composes nothing new for it and says, in the
/// `ProviderConfigReady` condition, whose job provisioning is. The cache and
/// workload composers use the cluster as soon as its
/// `status.providerConfigRef.name` is set, whoever sets it.
enum GKECluster {
    /// The condition reason while nothing reaches the cluster.
    static let reason = "NeedsClusterComposition"

    /// Checks `spec.cluster.gke` as the XRD does (hardened: the proposal's schema only describes it as required).
    static func validate(_ xr: Value, _ v: inout Validator) {
        let field = "spec.cluster.gke"
        guard let gke = v.object(xr[path: "spec", "cluster", "gke"], field) else { return }
        if let project = v.string(gke["project"], "\(field).project"), !(6...30).contains(project.utf8.count) {
            v.fail("\(field).project", .string(project), "must be 6 to 30 characters long (a Google Cloud project ID)")
        }
        if let region = v.string(gke["region"], "\(field).region"), !(1...32).contains(region.utf8.count) {
            v.fail("\(field).region", .string(region), "must be 1 to 32 characters long (a Google Cloud region)")
        }
        _ = v.string(gke["kubernetesVersion"], "\(field).kubernetesVersion", required: false)
    }

    /// Reports the cluster. A provider config composed earlier (the cluster was
    /// `Existing` before) stays composed as observed, so nothing on the workload
    /// cluster loses its credentials because the source changed.
    static func report(_ request: RunRequest, xr: XR, into response: inout RunResponse) {
        let kept = keepProviderConfig(request, into: &response)
        let providerConfig = ClusterView(xr.object)?.providerConfig
        if let providerConfig {
            response.conditions.append(
                Condition(
                    type: "ProviderConfigReady", status: .true, reason: "Available",
                    message: "InferenceCluster \(xr.name) has source GKE and reports ClusterProviderConfig "
                        + "\(providerConfig): caches and workloads use it"))
        } else {
            response.conditions.append(
                Condition(
                    type: "ProviderConfigReady", status: .false, reason: reason,
                    message: "InferenceCluster \(xr.name) has source GKE: provisioning it is the job of "
                        + "Modelplane's cluster composition, and this package's composition composes nothing "
                        + "for it; caches and workloads use the cluster once status.providerConfigRef.name is set"))
        }
        if let kept {
            response.conditions.append(
                Condition(
                    type: "ProviderConfigKept", status: .true, reason: "SourceChanged",
                    message:
                        "Keeping ClusterProviderConfig \(kept.isEmpty ? "" : kept + " ")composed while source was Existing, "
                        + "so that nothing on the cluster loses its credentials"))
        }
        response.updateDesiredComposite(of: xr.object, kind: ClusterView.kind, ready: providerConfig != nil)
    }

    /// Composes the observed provider config again, as it is; answers its name
    /// ("" when it has none), or nil when none is observed.
    private static func keepProviderConfig(_ request: RunRequest, into response: inout RunResponse) -> String? {
        guard let observed = request.observed.resources[.providerConfig], let spec = observed.object["spec"],
            !spec.isNull
        else { return nil }
        response.desired.resources[.providerConfig] = Resource(
            object: [
                "apiVersion": observed.object["apiVersion"] ?? .string(ProviderObject.apiVersion),
                "kind": observed.object["kind"] ?? "ClusterProviderConfig", "spec": spec,
            ],
            ready: .ready)
        return observed.object[path: "metadata", "name"]?.stringValue ?? ""
    }
}
