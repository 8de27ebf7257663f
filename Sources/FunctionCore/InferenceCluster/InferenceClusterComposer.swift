/// Composes an InferenceCluster.
///
/// Source `Existing`: one provider-kubernetes `ClusterProviderConfig` whose
/// credentials are the kubeconfig Secret, and `status.providerConfigRef.name`
/// reported from the observed composed object (the function never invents that
/// name: Crossplane generates it). Source `GKE`: provisioning a cloud cluster is
/// Modelplane's cluster composition's job, so nothing is composed and a
/// condition says so (see `GKECluster`).
public struct InferenceClusterComposer: KindComposer {
    /// Composed resource key of the provider config.
    public static let providerConfigKey = "provider-config"
    /// Requirement key of the kubeconfig Secret.
    public static let kubeconfigKey = "kubeconfig"
    /// Where the kubeconfig Secret is when `secretRef.namespace` is unset (the proposal's convention).
    public static let defaultSecretNamespace = "modelplane-system"
    /// The kubeconfig Secret's data key when `secretRef.key` is unset.
    public static let defaultSecretKey = "kubeconfig"

    /// Creates the composer.
    public init() {}

    /// The kubeconfig Secret of an Existing cluster, validated.
    struct KubeconfigRef {
        let namespace: String
        let name: String
        let key: String
    }

    /// Composes one InferenceCluster.
    public func compose(_ request: RunRequest, xr context: XR, into response: inout RunResponse) {
        let (xr, name) = (context.object, context.name)
        var v = Validator()
        let source = v.string(xr[path: "spec", "cluster", "source"], "spec.cluster.source")
        var ref: KubeconfigRef?
        switch source {
        case "Existing"?: ref = Self.kubeconfigRef(xr, &v)
        case "GKE"?: GKECluster.validate(xr, &v)
        case let other?: v.fail("spec.cluster.source", .string(other), "is not a valid source: use GKE or Existing")
        case nil: break
        }
        // The storage declaration is read by every cache; reject a bad one here, where its owner looks.
        if let view = ClusterView(xr), let problem = view.rwxProblem {
            v.fail("spec.storage.rwxCache", nil, "is invalid: \(problem)")
        }
        guard v.errors.isEmpty else {
            let message = "Invalid InferenceCluster \(name): \(FieldErrors(v.errors))"
            response.results.append(.fatal(message, reason: "InvalidSpec"))
            response.conditions.append(
                Condition(type: "ProviderConfigReady", status: .false, reason: "InvalidSpec", message: message))
            return
        }
        if let ref {
            composeExisting(ref, request: request, xr: xr, into: &response)
        } else {
            GKECluster.report(request, xr: context, into: &response)
        }
    }

    /// Reads `spec.cluster.existing.secretRef` with its defaults.
    static func kubeconfigRef(_ xr: Value, _ v: inout Validator) -> KubeconfigRef? {
        let field = "spec.cluster.existing.secretRef"
        let ref = v.object(xr[path: "spec", "cluster", "existing", "secretRef"], field)
        guard let ref else { return nil }
        let name = v.string(ref["name"], "\(field).name")
        let namespace = v.string(ref["namespace"], "\(field).namespace", required: false) ?? defaultSecretNamespace
        let key = v.string(ref["key"], "\(field).key", required: false) ?? defaultSecretKey
        if let name, !Rules.isDNSSubdomain(name) {
            v.fail(
                "\(field).name", .string(name),
                "is not a valid Secret name: use a DNS-1123 subdomain (lowercase letters, digits, '-', '.')")
        }
        if !Rules.isDNSLabel(namespace) {
            v.fail(
                "\(field).namespace", .string(namespace),
                "is not a valid namespace: use a DNS-1123 label (lowercase letters, digits, '-')")
        }
        if !Rules.isSecretKey(key) {
            v.fail("\(field).key", .string(key), "is not a valid Secret key: use letters, digits, '-', '_', '.'")
        }
        guard let name, v.errors.isEmpty else { return nil }
        return KubeconfigRef(namespace: namespace, name: name, key: key)
    }

    private func composeExisting(_ ref: KubeconfigRef, request: RunRequest, xr: Value, into response: inout RunResponse)
    {
        // The kubeconfig Secret: asked for so that a missing one is reported, never read into the output.
        response.requirements = Requirements(resources: [
            Self.kubeconfigKey: ResourceSelector(
                apiVersion: "v1", kind: "Secret", match: .name(ref.name), namespace: ref.namespace)
        ])
        let observed = request.observed.resources[Self.providerConfigKey]
        response.desired.resources[Self.providerConfigKey] = Resource(
            object: [
                "apiVersion": .string(ProviderObject.apiVersion), "kind": "ClusterProviderConfig",
                "spec": [
                    "credentials": [
                        "source": "Secret",
                        "secretRef": [
                            "namespace": .string(ref.namespace), "name": .string(ref.name), "key": .string(ref.key),
                        ],
                    ]
                ],
            ],
            ready: observed != nil ? .ready : .notReady)

        var conditions: [Condition] = []
        var secretMissing = false
        if let answer = request.requiredResources[Self.kubeconfigKey] {
            // Only the Secret asked for counts: an answer naming another is treated as no answer.
            let secret = answer.first { $0.object[path: "metadata", "name"]?.stringValue == ref.name }?.object
            let value = secret?[path: "data", ref.key]?.stringValue ?? ""
            if secret == nil || value.isEmpty {
                secretMissing = true
                let what = secret == nil ? "does not exist" : "has no non-empty key \(ref.key)"
                conditions.append(
                    Condition(
                        type: "KubeconfigFound", status: .false, reason: "SecretMissing",
                        message: "Secret \(ref.namespace)/\(ref.name) \(what): the cluster cannot be reached"))
            } else {
                conditions.append(
                    Condition(
                        type: "KubeconfigFound", status: .true, reason: "Found",
                        message: "Secret \(ref.namespace)/\(ref.name) holds key \(ref.key)"))
            }
        }
        // A name Crossplane generated is a valid object name; anything else is not reported as one.
        let pcName = observed?.object[path: "metadata", "name"]?.stringValue.flatMap {
            Rules.isDNSSubdomain($0) ? $0 : nil
        }
        var composite =
            response.desired.composite
            ?? Resource(object: [
                "apiVersion": xr["apiVersion"] ?? .string(Composer.apiVersion), "kind": .string(ClusterView.kind),
            ])
        if let pcName {
            var status = composite.object["status"]?.objectValue ?? [:]
            status["providerConfigRef"] = ["name": .string(pcName)]
            composite.object["status"] = .object(status)
            conditions.append(
                Condition(
                    type: "ProviderConfigReady", status: .true, reason: "Available",
                    message: "ClusterProviderConfig \(pcName) reaches this cluster"))
        } else {
            conditions.append(
                Condition(
                    type: "ProviderConfigReady", status: .false, reason: "Creating",
                    message: "Waiting for the ClusterProviderConfig to be created"))
        }
        composite.ready = pcName != nil && !secretMissing ? .ready : .notReady
        response.desired.composite = composite
        response.conditions += conditions
    }
}
