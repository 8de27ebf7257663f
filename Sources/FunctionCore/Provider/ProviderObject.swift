/// Builds and reads provider-kubernetes `Object`s (`kubernetes.m.crossplane.io/v1alpha1`),
/// the wrapper that puts a manifest onto a workload cluster.
public enum ProviderObject {
    /// The Object's apiVersion.
    public static let apiVersion = "kubernetes.m.crossplane.io/v1alpha1"

    /// Management policies that never delete: the remote object is orphaned when
    /// dropped from desired state (the hydration Job then removes itself by TTL).
    public static let noDelete: [Value] = ["Observe", "Create", "Update", "LateInitialize"]

    /// An Object wrapping `manifest`, reaching the cluster through `providerConfig`.
    ///
    /// The Object's own name is left to Crossplane (functions never set composed names).
    public static func wrap(
        _ manifest: Value, providerConfig: String, readinessQuery: String? = nil,
        managementPolicies: [Value]? = nil, references: [Value]? = nil
    ) -> Value {
        wrap(
            manifest, providerConfig: providerConfig, readiness: readinessQuery.map(celReadiness),
            managementPolicies: managementPolicies, references: references)
    }

    /// An Object wrapping `manifest`, with a prebuilt `spec.readiness` (see `celReadiness`).
    ///
    /// This runs for every cluster of every cache: fields are written in key
    /// order (no search, no sorting) and constant parts are shared, not rebuilt.
    public static func wrap(
        _ manifest: Value, providerConfig: String, readiness: Value?,
        managementPolicies: [Value]? = nil, references: [Value]? = nil, watch: Bool = false
    ) -> Value {
        typealias E = Fields.Entry
        let forProvider = Fields(ordered: [E(key: "manifest", value: manifest)])
        let ref = Fields(ordered: [
            E(key: "kind", value: clusterProviderConfig), E(key: "name", value: .string(providerConfig)),
        ])
        var spec: [E] = []
        spec.reserveCapacity(6)
        spec.append(E(key: "forProvider", value: .object(forProvider)))
        if let managementPolicies { spec.append(E(key: "managementPolicies", value: .list(managementPolicies))) }
        spec.append(E(key: "providerConfigRef", value: .object(ref)))
        if let readiness { spec.append(E(key: "readiness", value: readiness)) }
        if let references { spec.append(E(key: "references", value: .list(references))) }
        if watch { spec.append(E(key: "watch", value: .bool(true))) }
        return .object(
            Fields(ordered: [
                E(key: "apiVersion", value: apiVersionValue), E(key: "kind", value: objectKind),
                E(key: "spec", value: .object(Fields(ordered: spec))),
            ]))
    }

    /// `spec.readiness` deriving readiness from a CEL query over the remote object.
    public static func celReadiness(_ query: String) -> Value {
        ["policy": "DeriveFromCelQuery", "celQuery": .string(query)]
    }

    private static let apiVersionValue = Value.string(apiVersion)
    private static let objectKind: Value = "Object"
    private static let clusterProviderConfig: Value = "ClusterProviderConfig"

    /// The remote object as last observed by the provider (`status.atProvider.manifest`).
    public static func remote(_ observed: Resource?) -> Value? {
        observed?.object[path: "status", "atProvider", "manifest"]
    }

    /// Whether the observed Object reports `Ready=True`.
    public static func isReady(_ observed: Resource?) -> Bool {
        conditionStatus(observed?.object, "Ready") == "True"
    }
}

/// The `status` string of the condition of type `type` in `object.status.conditions`.
public func conditionStatus(_ object: Value?, _ type: String) -> String? {
    object?.value(ofField: "status", inFirstObjectInListAt: "status", "conditions", where: "type", is: type)?
        .stringValue
}

/// The condition of type `type` in `object.status.conditions`.
public func condition(_ object: Value?, _ type: String) -> Value? {
    object?.firstObject(inListAt: "status", "conditions", where: "type", is: type)
}
