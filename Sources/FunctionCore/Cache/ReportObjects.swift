/// What a cluster needs beside a hydration Job so the Job can report
/// (hydrator.md §4): the report ConfigMap, and the least privilege to write it
/// (a ServiceAccount, a Role allowing `get`/`update`/`patch` on that one
/// ConfigMap, a RoleBinding). Composed on a cluster exactly while it has a Job
/// in desired state; before that, while a new Job waits for it, the ServiceAccount alone.
///
/// The manifests are built once per cache and shared (copy-on-write) by every
/// cluster's Object. A class, immutable: built lazily by the stager, only
/// when some cluster runs a Job.
final class ReportObjects: Sendable {
    /// The ServiceAccount the Job runs as.
    let account: Value
    /// The Role allowing the report ConfigMap's `get`, `update` and `patch`, on that name only.
    let role: Value
    /// The RoleBinding of that Role to the ServiceAccount.
    let binding: Value
    /// The report ConfigMap, created without data (the Job writes `report.json`).
    let configMap: Value

    /// The report ConfigMap Object's readiness: true only once the report says `Complete` or `Failed`.
    /// CEL cannot parse JSON, so the text is matched: the hydrator writes compact JSON (no spaces),
    /// and a `"phase":"…"` inside a string value is escaped (`\"phase\":…`), so it never matches.
    static let reportReadiness = ProviderObject.celReadiness(
        "has(object.data) && '\(HydrationProgram.reportKey)' in object.data && "
            + "object.data['\(HydrationProgram.reportKey)'].matches('\"phase\":\"(Complete|Failed)\"')")

    /// The report ConfigMap Object's management policies: created and observed, deleted with the
    /// Object, never updated (the function would otherwise overwrite what the Job wrote).
    static let reportPolicies: [Value] = ["Observe", "Create", "Delete"]

    /// The manifests of `staging`'s cache.
    init(_ staging: CacheStaging) {
        let name = Value.string(staging.accountName)
        let namespace = Value.string(staging.remoteNamespace)
        account = [
            "apiVersion": "v1", "kind": "ServiceAccount", "metadata": staging.remoteMetadata(staging.accountName),
            "automountServiceAccountToken": false,
        ]
        role = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": staging.remoteMetadata(staging.accountName),
            "rules": [
                [
                    "apiGroups": [""], "resources": ["configmaps"],
                    "resourceNames": [.string(staging.reportName)], "verbs": ["get", "update", "patch"],
                ]
            ],
        ]
        binding = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": staging.remoteMetadata(staging.accountName),
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name],
            "subjects": [["kind": "ServiceAccount", "name": name, "namespace": namespace]],
        ]
        configMap = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": staging.remoteMetadata(staging.reportName)]
    }

    /// The four Objects on the cluster reached through `providerConfig`, in the order
    /// ServiceAccount, Role, RoleBinding, report ConfigMap; only the ServiceAccount's while
    /// `waiting` (a new Job waits for it to be Ready; the other three come with the Job).
    func objects(providerConfig: String, waiting: Bool = false) -> [Value] {
        let account = ProviderObject.wrap(account, providerConfig: providerConfig, readiness: nil)
        guard !waiting else { return [account] }
        return [
            account,
            ProviderObject.wrap(role, providerConfig: providerConfig, readiness: nil),
            ProviderObject.wrap(binding, providerConfig: providerConfig, readiness: nil),
            ProviderObject.wrap(
                configMap, providerConfig: providerConfig, readiness: Self.reportReadiness,
                managementPolicies: Self.reportPolicies, watch: true),
        ]
    }

    /// The keys of the four Objects of a ModelCache on `cluster`, in `objects`' order.
    static func keys(on cluster: String) -> [ResourceKey] {
        [
            .hydrateAccount(on: cluster), .hydrateRole(on: cluster), .hydrateRoleBinding(on: cluster),
            .report(on: cluster),
        ]
    }

    /// The keys of the four Objects of an automatic cache, in `objects`' order.
    static let automaticKeys: [ResourceKey] = [
        .automaticAccount, .automaticRole, .automaticRoleBinding, .automaticReport,
    ]
}
