import Testing

@testable import FunctionCore

@Suite struct InferenceClusterTests {
    func xr(_ existing: Value = ["secretRef": ["name": "gpu-east-kubeconfig"]], rwx: Value? = nil) -> Value {
        var spec: Value = ["cluster": ["source": "Existing", "existing": existing]]
        if let rwx { spec["storage"] = ["rwxCache": rwx] }
        return ["apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster", "metadata": ["name": "gpu-east"], "spec": spec]
    }

    let secret: Value = ["apiVersion": "v1", "kind": "Secret",
                         "metadata": ["name": "gpu-east-kubeconfig", "namespace": "crossplane-system"],
                         "data": ["kubeconfig": "c2VjcmV0LWt1YmVjb25maWc="]]

    @Test("A ClusterProviderConfig from the kubeconfig Secret, with the documented defaults for namespace and key")
    func providerConfig() {
        let r = Composer().run(Fx.request(xr(), required: ["kubeconfig": [secret]]))
        #expect(r.desired.resources["provider-config"]?.object == [
            "apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "ClusterProviderConfig",
            "spec": ["credentials": ["source": "Secret", "secretRef": [
                "namespace": "crossplane-system", "name": "gpu-east-kubeconfig", "key": "kubeconfig"]]],
        ])
        #expect(r.desired.resources["provider-config"]?.object[path: "metadata", "name"] == nil, "never invents names")
        #expect(r.desired.composite?.object[path: "status", "providerConfigRef"] == nil)
        #expect(cond(r, "ProviderConfigReady")?.reason == "Creating")
        #expect(cond(r, "KubeconfigFound")?.status == .true)
        #expect(r.desired.composite?.ready == .notReady)
        #expect(r.requirements?.resources["kubeconfig"] == ResourceSelector(
            apiVersion: "v1", kind: "Secret", match: .name("gpu-east-kubeconfig"), namespace: "crossplane-system"))
        #expect(!r.canonicalValue.canonicalJSON().contains("c2VjcmV0LWt1YmVjb25maWc="), "the kubeconfig never appears")
    }

    @Test("status.providerConfigRef.name comes from the observed composed object's name")
    func observedName() {
        let r = Composer().run(Fx.request(xr(), required: ["kubeconfig": [secret]],
                                          observed: ["provider-config": ["kind": "ClusterProviderConfig", "metadata": ["name": "gpu-east-x7k2p"]]]))
        #expect(r.desired.composite?.object[path: "status", "providerConfigRef", "name"] == "gpu-east-x7k2p")
        #expect(r.desired.composite?.ready == .ready)
        #expect(r.desired.resources["provider-config"]?.ready == .ready)
    }

    @Test("A missing Secret or key is a condition that says so, and the cluster is not ready")
    func secretMissing() {
        let r = Composer().run(Fx.request(xr(), required: ["kubeconfig": []],
                                          observed: ["provider-config": ["metadata": ["name": "pc"]]]))
        #expect(cond(r, "KubeconfigFound")?.message == "Secret crossplane-system/gpu-east-kubeconfig does not exist: the cluster cannot be reached")
        #expect(r.desired.composite?.ready == .notReady)
        #expect(r.desired.resources["provider-config"] != nil, "still composed: it works once the Secret appears")
    }

    @Test("Without a secret reference, or with a bad rwxCache, the spec is FATAL naming the field")
    func invalid() {
        let noRef = Composer().run(Fx.request(xr([:])))
        #expect(noRef.results.first?.message == "Invalid InferenceCluster gpu-east: spec.cluster.existing.secretRef is required")
        let badRWX = Composer().run(Fx.request(xr(rwx: ["storageClassName": "Bad_Class"])))
        #expect(badRWX.isFatal)
        #expect(badRWX.results.first?.message.contains(#"storageClassName "Bad_Class""#) == true)
    }
}
