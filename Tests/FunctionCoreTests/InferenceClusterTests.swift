import Testing

@testable import FunctionCore

@Suite struct InferenceClusterTests {
    func xr(_ existing: Value = ["secretRef": ["name": "gpu-east-kubeconfig"]], rwx: Value? = nil) -> Value {
        var spec: Value = ["cluster": ["source": "Existing", "existing": existing]]
        if let rwx { spec["storage"] = ["rwxCache": rwx] }
        return [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster", "metadata": ["name": "gpu-east"],
            "spec": spec,
        ]
    }

    let secret: Value = [
        "apiVersion": "v1", "kind": "Secret",
        "metadata": ["name": "gpu-east-kubeconfig", "namespace": "modelplane-system"],
        "data": ["kubeconfig": "c2VjcmV0LWt1YmVjb25maWc="],
    ]

    @Test("A ClusterProviderConfig from the kubeconfig Secret, with the documented defaults for namespace and key")
    func providerConfig() {
        let r = Composer().run(Fixtures.request(xr(), required: ["kubeconfig": [secret]]))
        #expect(
            r.desired.resources["provider-config"]?.object == [
                "apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "ClusterProviderConfig",
                "spec": [
                    "credentials": [
                        "source": "Secret",
                        "secretRef": [
                            "namespace": "modelplane-system", "name": "gpu-east-kubeconfig", "key": "kubeconfig",
                        ],
                    ]
                ],
            ])
        #expect(r.desired.resources["provider-config"]?.object[path: "metadata", "name"] == nil, "never invents names")
        #expect(r.desired.composite?.object[path: "status", "providerConfigRef"] == nil)
        #expect(cond(r, "ProviderConfigReady")?.reason == "Creating")
        #expect(cond(r, "KubeconfigFound")?.status == .true)
        #expect(r.desired.composite?.ready == .notReady)
        #expect(
            r.requirements?.resources["kubeconfig"]
                == ResourceSelector(
                    apiVersion: "v1", kind: "Secret", match: .name("gpu-east-kubeconfig"),
                    namespace: "modelplane-system"))
        #expect(!r.canonicalValue.canonicalJSON().contains("c2VjcmV0LWt1YmVjb25maWc="), "the kubeconfig never appears")
    }

    @Test("status.providerConfigRef.name comes from the observed composed object's name")
    func observedName() {
        let r = Composer().run(
            Fixtures.request(
                xr(), required: ["kubeconfig": [secret]],
                observed: [
                    "provider-config": ["kind": "ClusterProviderConfig", "metadata": ["name": "gpu-east-x7k2p"]]
                ]))
        #expect(r.desired.composite?.object[path: "status", "providerConfigRef", "name"] == "gpu-east-x7k2p")
        #expect(r.desired.composite?.ready == .ready)
        #expect(r.desired.resources["provider-config"]?.ready == .ready)
    }

    @Test("A missing Secret or key is a condition that says so, and the cluster is not ready")
    func secretMissing() {
        let r = Composer().run(
            Fixtures.request(
                xr(), required: ["kubeconfig": []],
                observed: ["provider-config": ["metadata": ["name": "pc"]]]))
        #expect(
            cond(r, "KubeconfigFound")?.message
                == "Secret modelplane-system/gpu-east-kubeconfig does not exist: the cluster cannot be reached")
        #expect(r.desired.composite?.ready == .notReady)
        #expect(r.desired.resources["provider-config"] != nil, "still composed: it works once the Secret appears")
    }

    @Test("Without a secret reference, or with a bad rwxCache, the spec is FATAL naming the field")
    func invalid() {
        let noRef = Composer().run(Fixtures.request(xr([:])))
        #expect(
            noRef.results.first?.message
                == "Invalid InferenceCluster gpu-east: spec.cluster.existing.secretRef is required")
        let badRWX = Composer().run(Fixtures.request(xr(rwx: ["storageClassName": "Bad_Class"])))
        #expect(badRWX.isFatal)
        #expect(badRWX.results.first?.message.contains(#"storageClassName "Bad_Class""#) == true)
    }

    /// A kubeconfig reference, and where the function must look for the Secret.
    struct KubeconfigCase: Sendable, CustomTestStringConvertible {
        let name: String
        let ref: Value
        let namespace: String
        let key: String
        var testDescription: String { name }
    }

    @Test(
        "The kubeconfig Secret's namespace and key default as the proposal says",
        arguments: [
            KubeconfigCase(
                name: "BothDefaulted", ref: ["name": "kc"], namespace: "modelplane-system", key: "kubeconfig"),
            KubeconfigCase(
                name: "NamespaceSet", ref: ["name": "kc", "namespace": "crossplane-system"],
                namespace: "crossplane-system", key: "kubeconfig"),
            KubeconfigCase(
                name: "KeySet", ref: ["name": "kc", "key": "value"], namespace: "modelplane-system", key: "value"),
            KubeconfigCase(
                name: "NullFieldsDefault", ref: ["name": "kc", "namespace": .null, "key": .null],
                namespace: "modelplane-system", key: "kubeconfig"),
        ])
    func kubeconfigDefaults(_ c: KubeconfigCase) {
        let r = Composer().run(Fixtures.request(xr(["secretRef": c.ref])))
        #expect(
            r.requirements?.resources["kubeconfig"]
                == ResourceSelector(
                    apiVersion: "v1", kind: "Secret", match: .name("kc"), namespace: c.namespace))
        #expect(
            r.desired.resources["provider-config"]?.object[path: "spec", "credentials", "secretRef"]
                == ["namespace": .string(c.namespace), "name": "kc", "key": .string(c.key)])
    }

    func gke(_ status: Value? = nil) -> Value {
        var o: Value = [
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster", "metadata": ["name": "gke-us-central"],
            "spec": [
                "cluster": ["source": "GKE", "gke": ["project": "my-gcp-project", "region": "us-central1"]],
                "storage": ["rwxCache": ["storageClassName": "standard-rwx"]],
                "nodePools": [["name": "gpu-l4", "className": "gke-l4-1x-g2", "nodeCount": 1]],
            ],
        ]
        if let status { o["status"] = status }
        return o
    }

    @Test("A GKE cluster is accepted, nothing is composed, and a condition says whose job provisioning is")
    func gkeReported() throws {
        let r = Composer().run(Fixtures.request(gke()))
        #expect(!r.isFatal)
        #expect(r.desired.resources.isEmpty)
        #expect(r.requirements == nil, "no kubeconfig to ask for")
        let c = try #require(cond(r, "ProviderConfigReady"))
        #expect(c.status == .false && c.reason == "NeedsClusterComposition")
        #expect(
            c.message == "InferenceCluster gke-us-central has source GKE: provisioning it is the job of Modelplane's "
                + "cluster composition, and this package's composition composes nothing for it; caches and workloads use the "
                + "cluster once status.providerConfigRef.name is set")
        #expect(r.desired.composite?.ready == .notReady)
    }

    @Test("A GKE cluster whose provider config another composition set is ready, and caches stage on it")
    func gkeWithProviderConfig() {
        let cluster = gke(["providerConfigRef": ["name": "gke-us-central-pc"]])
        let r = Composer().run(Fixtures.request(cluster))
        #expect(cond(r, "ProviderConfigReady")?.status == .true)
        #expect(r.desired.composite?.ready == .ready)
        #expect(
            r.desired.composite?.object[path: "status", "providerConfigRef"] == nil, "never rewritten by this package")

        let cache = Composer().run(Fixtures.request(Fixtures.modelCache(), clusters: [cluster]))
        #expect(
            cache.desired.resources["pvc-gke-us-central"]?.object[path: "spec", "providerConfigRef", "name"]
                == "gke-us-central-pc")
        #expect(manifest(cache, "pvc-gke-us-central")?[path: "spec", "storageClassName"] == "standard-rwx")
        #expect(manifest(cache, "pvc-gke-us-central")?[path: "spec", "resources", "requests", "storage"] == "200Gi")
    }

    @Test("A GKE cluster without its gke block, or with a bad project, is FATAL naming the field")
    func gkeInvalid() {
        var noBlock = gke()
        noBlock["spec"]?["cluster"] = ["source": "GKE"]
        #expect(
            Composer().run(Fixtures.request(noBlock)).results.first?.message
                == "Invalid InferenceCluster gke-us-central: spec.cluster.gke is required")
        var shortProject = gke()
        shortProject["spec"]?["cluster"]?["gke"]?["project"] = "abc"
        #expect(
            Composer().run(Fixtures.request(shortProject)).results.first?.message
                == #"Invalid InferenceCluster gke-us-central: spec.cluster.gke.project "abc" must be 6 to 30 characters long (a Google Cloud project ID)"#
        )
        var other = gke()
        other["spec"]?["cluster"]?["source"] = "EKS"
        #expect(
            Composer().run(Fixtures.request(other)).results.first?.message
                == #"Invalid InferenceCluster gke-us-central: spec.cluster.source "EKS" is not a valid source: use GKE or Existing"#
        )
    }

    @Test("Switching a registered cluster to GKE keeps its provider config, so nothing on it loses credentials")
    func switchedToGKEKeepsProviderConfig() {
        let observed: Value = [
            "apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "ClusterProviderConfig",
            "metadata": ["name": "gke-us-central-x7k2p"],
            "spec": [
                "credentials": [
                    "source": "Secret",
                    "secretRef": ["name": "kc", "namespace": "modelplane-system", "key": "kubeconfig"],
                ]
            ],
        ]
        let r = Composer().run(Fixtures.request(gke(), observed: ["provider-config": observed]))
        #expect(
            r.desired.resources["provider-config"]?.object == [
                "apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "ClusterProviderConfig",
                "spec": [
                    "credentials": [
                        "source": "Secret",
                        "secretRef": ["name": "kc", "namespace": "modelplane-system", "key": "kubeconfig"],
                    ]
                ],
            ])
        #expect(cond(r, "ProviderConfigKept")?.message?.contains("gke-us-central-x7k2p") == true)
    }

    @Test("Only the kubeconfig Secret asked for counts; another Secret in the answer is as good as none")
    func otherSecretIgnored() {
        var other = secret
        other["metadata"]?["name"] = "someone-else"
        let r = Composer().run(Fixtures.request(xr(), required: ["kubeconfig": [other]]))
        #expect(cond(r, "KubeconfigFound")?.reason == "SecretMissing")
    }
}
