/// Composes an InferenceCluster with source `Existing`: one provider-kubernetes
/// `ClusterProviderConfig` whose credentials are the kubeconfig Secret, and
/// `status.providerConfigRef.name` reported from the observed composed object
/// (the function never invents that name: Crossplane generates it).
public struct InferenceClusterComposer: KindComposer {
    /// Composed resource key of the provider config.
    public static let providerConfigKey = "provider-config"
    /// Requirement key of the kubeconfig Secret.
    public static let kubeconfigKey = "kubeconfig"

    /// Creates the composer.
    public init() {}

    /// Composes one InferenceCluster.
    public func compose(_ request: RunRequest, xr context: XR, into response: inout RunResponse) {
        let (xr, name) = (context.object, context.name)
        var v = Validator()
        let source = v.string(xr[path: "spec", "cluster", "source"], "spec.cluster.source")
        if let source, source != "Existing" {
            v.fail("spec.cluster.source", .string(source), "is not supported: use Existing")
        }
        let ref = v.object(xr[path: "spec", "cluster", "existing", "secretRef"], "spec.cluster.existing.secretRef")
        let secretName = ref.flatMap { v.string($0["name"], "spec.cluster.existing.secretRef.name") }
        let secretNamespace = v.string(ref?["namespace"], "spec.cluster.existing.secretRef.namespace", required: false)
            ?? "crossplane-system"
        let secretKey = v.string(ref?["key"], "spec.cluster.existing.secretRef.key", required: false) ?? "kubeconfig"
        if let n = secretName, !Rules.isDNSSubdomain(n) {
            v.fail("spec.cluster.existing.secretRef.name", .string(n), "is not a valid Secret name")
        }
        if !Rules.isDNSLabel(secretNamespace) {
            v.fail("spec.cluster.existing.secretRef.namespace", .string(secretNamespace), "is not a valid namespace")
        }
        if !Rules.isSecretKey(secretKey) {
            v.fail("spec.cluster.existing.secretRef.key", .string(secretKey), "is not a valid Secret key")
        }
        // The storage declaration is read by every cache; reject a bad one here, where its owner looks.
        if let view = ClusterView(xr), let problem = view.rwxProblem {
            v.fail("spec.storage.rwxCache", nil, "is invalid: \(problem)")
        }
        guard v.errors.isEmpty, let secretName else {
            let message = "Invalid InferenceCluster \(name): \(FieldErrors(v.errors))"
            response.results.append(.fatal(message, reason: "InvalidSpec"))
            response.conditions.append(Condition(type: "ProviderConfigReady", status: .false, reason: "InvalidSpec", message: message))
            return
        }

        // The kubeconfig Secret: asked for so that a missing one is reported, never read into the output.
        response.requirements = Requirements(resources: [
            Self.kubeconfigKey: ResourceSelector(apiVersion: "v1", kind: "Secret", match: .name(secretName), namespace: secretNamespace)
        ])
        let observed = request.observed.resources[Self.providerConfigKey]
        response.desired.resources[Self.providerConfigKey] = Resource(
            object: [
                "apiVersion": .string(ProviderObject.apiVersion), "kind": "ClusterProviderConfig",
                "spec": ["credentials": ["source": "Secret", "secretRef": [
                    "namespace": .string(secretNamespace), "name": .string(secretName), "key": .string(secretKey),
                ]]],
            ],
            ready: observed != nil ? .ready : .notReady)

        var conditions: [Condition] = []
        var secretMissing = false
        if let answer = request.requiredResources[Self.kubeconfigKey] {
            let secret = answer.first?.object
            let value = secret?[path: "data", secretKey]?.stringValue ?? ""
            if secret == nil || value.isEmpty {
                secretMissing = true
                let what = secret == nil ? "does not exist" : "has no non-empty key \(secretKey)"
                conditions.append(Condition(type: "KubeconfigFound", status: .false, reason: "SecretMissing",
                                            message: "Secret \(secretNamespace)/\(secretName) \(what): the cluster cannot be reached"))
            } else {
                conditions.append(Condition(type: "KubeconfigFound", status: .true, reason: "Found",
                                            message: "Secret \(secretNamespace)/\(secretName) holds key \(secretKey)"))
            }
        }
        let pcName = observed?.object[path: "metadata", "name"]?.stringValue
        var composite = response.desired.composite ?? Resource(object: [
            "apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(ClusterView.kind)])
        if let pcName {
            var status = composite.object["status"]?.objectValue ?? [:]
            status["providerConfigRef"] = ["name": .string(pcName)]
            composite.object["status"] = .object(status)
            conditions.append(Condition(type: "ProviderConfigReady", status: .true, reason: "Available",
                                        message: "ClusterProviderConfig \(pcName) reaches this cluster"))
        } else {
            conditions.append(Condition(type: "ProviderConfigReady", status: .false, reason: "Creating",
                                        message: "Waiting for the ClusterProviderConfig to be created"))
        }
        composite.ready = pcName != nil && !secretMissing ? .ready : .notReady
        response.desired.composite = composite
        response.conditions += conditions
    }
}
