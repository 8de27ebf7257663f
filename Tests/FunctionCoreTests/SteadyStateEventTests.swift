import Testing

@testable import FunctionCore

/// Events are transitions: a steady state repeats none.
@Suite struct SteadyStateEventTests {
    @Test("A ModelCache with Ready, Failed, Retained and shrink-refused clusters repeats no event on a steady state")
    func cacheSteadyState() {
        var w = CacheWorld(clusters: ["gpu-a", "gpu-b", "gpu-c", "gpu-d"].map { Fixtures.cluster($0) })
        w.usages = [Lifecycle.usage("r1", cluster: "gpu-d", revision: Lifecycle.qwen.directory)]
        w.reconcile()
        w.finish("gpu-a", ("Complete", "Completed", "done"))
        w.finish("gpu-b", Lifecycle.failedWith(exitCode: 10))
        w.finish("gpu-c", ("Complete", "Completed", "done"))
        w.finish("gpu-d", ("Complete", "Completed", "done"))
        w.reconcile()
        w.reconcile()
        w.clusters.removeLast()  // gpu-d deselected: Retained for its replica
        w.spec = with(w.spec, "storage", ["sizeGiB": 100])  // smaller than the claims: refused
        w.generation += 1
        w.reconcile()
        w.reconcile()
        #expect(w.entry("gpu-a")?["phase"] == "Ready")
        #expect(w.entry("gpu-a")?["message"]?.stringValue?.contains("cannot shrink") == true)
        #expect(w.entry("gpu-b")?["phase"] == "Failed")
        #expect(w.entry("gpu-d")?["phase"] == "Retained")
        for _ in 0..<3 {
            let r = w.reconcile()
            #expect(r.results.isEmpty, "repeated: \(r.results.map(\.message))")
        }
    }

    @Test("A ModelReplica with a shared cache repeats no event on a steady state, Ready or not")
    func replicaSteadyState() {
        for phase in ["Ready", "Failed", "Retained", "Hydrating"] {
            let cache = Workloads.cache(phases: [("gpu-east", phase)], staged: ["gpu-east": Workloads.source])
            var status: Value = .null
            var observed: [String: Value] = [:]
            for i in 0..<4 {
                let xr = Workloads.replica(cache: "qwen-2-5", status: status.isNull ? nil : status)
                let r = Composer().run(
                    Fixtures.request(
                        xr, required: ["cluster": [Fixtures.cluster("gpu-east")], "cache": [cache]],
                        observed: observed))
                if i >= 2 { #expect(r.results.isEmpty, "\(phase): repeated \(r.results.map(\.message))") }
                status = Lifecycle.statusWritten(by: r)
                observed = r.desired.resources.mapValues(\.object)
            }
        }
    }
}
