/// Composes an InferenceCluster.
///
/// Source `Existing`: one provider-kubernetes `ClusterProviderConfig` whose
/// credentials are the kubeconfig Secret, and `status.providerConfigRef.name`
/// reported from the observed composed object (the function never invents that
/// name: Crossplane generates it). Source `GKE`: provisioning a cloud cluster is
/// Modelplane's cluster composition's job, so nothing is composed and a
/// condition says so (see `GKECluster`).
public struct InferenceClusterComposer: KindComposer {
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

        /// The ClusterProviderConfig whose credentials are this Secret's key.
        var providerConfig: Value {
            [
                "apiVersion": .string(ProviderObject.apiVersion), "kind": "ClusterProviderConfig",
                "spec": [
                    "credentials": [
                        "source": "Secret",
                        "secretRef": ["namespace": .string(namespace), "name": .string(name), "key": .string(key)],
                    ]
                ],
            ]
        }
    }

    /// Composes one InferenceCluster.
    public func compose(_ request: RunRequest, xr: XR, into response: inout RunResponse) {
        var v = Validator()
        let ref = Self.validate(xr.object, &v)
        guard v.errors.isEmpty else {
            return response.refuse(
                "Invalid InferenceCluster \(xr.name): \(FieldErrors(v.errors))", reason: "InvalidSpec",
                condition: "ProviderConfigReady")
        }
        if let ref {
            composeExisting(ref, request: request, xr: xr.object, into: &response)
        } else {
            GKECluster.report(request, xr: xr, into: &response)
        }
    }

    /// Checks the source and its settings, and the storage declaration; answers
    /// the kubeconfig Secret of an Existing cluster.
    static func validate(_ xr: Value, _ v: inout Validator) -> KubeconfigRef? {
        var ref: KubeconfigRef?
        switch v.string(xr[path: "spec", "cluster", "source"], "spec.cluster.source") {
        case "Existing"?: ref = kubeconfigRef(xr, &v)
        case "GKE"?: GKECluster.validate(xr, &v)
        case let other?: v.fail("spec.cluster.source", .string(other), "is not a valid source: use GKE or Existing")
        case nil: break
        }
        // The storage declaration is read by every cache; reject a bad one here, where its owner looks.
        if let view = ClusterView(xr) {
            if let problem = view.rwxProblem {
                v.fail("spec.storage.rwxCache", nil, "is invalid: \(problem)")
            } else if let problem = view.hydration?.problem {
                v.fail("spec.storage.rwxCache.hydration", nil, "is invalid: \(problem)")
            }
        }
        return ref
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

    /// Composes the ClusterProviderConfig of an Existing cluster and reports
    /// its name once Crossplane created it.
    private func composeExisting(_ ref: KubeconfigRef, request: RunRequest, xr: Value, into response: inout RunResponse)
    {
        // 1. The kubeconfig Secret: asked for so that a missing one is reported, never read into the output.
        var requirements = Requirements()
        requirements[.kubeconfig] = .secret(named: ref.name, in: ref.namespace)
        response.requirements = requirements

        // 2. The provider config.
        let observed = request.observed.resources[.providerConfig]
        response.desired.resources[.providerConfig] = Resource(
            object: ref.providerConfig, ready: observed != nil ? .ready : .notReady)

        // 3. Conditions, status and readiness.
        let found = kubeconfigFound(ref, request: request)
        if let found { response.conditions.append(found) }
        // A name Crossplane generated is a valid object name; anything else is not reported as one.
        let pcName = observed?.object[path: "metadata", "name"]?.stringValue.flatMap {
            Rules.isDNSSubdomain($0) ? $0 : nil
        }
        response.conditions.append(
            pcName.map {
                Condition(
                    type: "ProviderConfigReady", status: .true, reason: "Available",
                    message: "ClusterProviderConfig \($0) reaches this cluster")
            }
                ?? Condition(
                    type: "ProviderConfigReady", status: .false, reason: "Creating",
                    message: "Waiting for the ClusterProviderConfig to be created"))
        response.updateDesiredComposite(
            of: xr, kind: ClusterView.kind, status: pcName.map { ["providerConfigRef": ["name": .string($0)]] } ?? [:],
            ready: pcName != nil && found?.status != .false)
    }

    /// `KubeconfigFound` once the Secret is answered: whether it holds a non-empty key.
    /// Only the Secret asked for counts: an answer naming another is treated as no answer.
    private func kubeconfigFound(_ ref: KubeconfigRef, request: RunRequest) -> Condition? {
        guard let answer = request.required(.kubeconfig) else { return nil }
        let secret = answer.first { $0.object[path: "metadata", "name"]?.stringValue == ref.name }?.object
        let value = secret?[path: "data", ref.key]?.stringValue ?? ""
        guard secret == nil || value.isEmpty else {
            return Condition(
                type: "KubeconfigFound", status: .true, reason: "Found",
                message: "Secret \(ref.namespace)/\(ref.name) holds key \(ref.key)")
        }
        let what = secret == nil ? "does not exist" : "has no non-empty key \(ref.key)"
        return Condition(
            type: "KubeconfigFound", status: .false, reason: "SecretMissing",
            message: "Secret \(ref.namespace)/\(ref.name) \(what): the cluster cannot be reached")
    }
}
