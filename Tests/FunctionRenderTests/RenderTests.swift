import FunctionCore
import Testing

@testable import FunctionRender

/// The render loop itself, with stand-in steps.
@Suite struct RenderTests {
    let xr: Value = [
        "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
        "metadata": ["name": "c", "namespace": "ns", "uid": "u-1"],
    ]
    let composition: Value = [
        "apiVersion": "apiextensions.crossplane.io/v1", "kind": "Composition",
        "spec": ["mode": "Pipeline", "pipeline": [["step": "s1", "functionRef": ["name": "function-modelcache"]]]],
    ]
    let functions: [Value] = [
        ["apiVersion": "pkg.crossplane.io/v1", "kind": "Function", "metadata": ["name": "function-modelcache"]]
    ]

    @Test("A step whose requirements never settle fails after 6 calls with a clear message")
    func neverSettles() {
        final class Counter: @unchecked Sendable { var calls = 0 }
        let counter = Counter()
        let renderer = Renderer { request in
            counter.calls += 1
            var r = RunResponse(to: request)
            r.requirements = Requirements(resources: [
                "x": ResourceSelector(
                    apiVersion: "v1", kind: "ConfigMap", match: .name("call-\(counter.calls)"))
            ])
            return r
        }
        #expect {
            try renderer.render(RenderInput(xr: xr, composition: composition, functions: functions))
        } throws: { error in
            "\(error)".contains("requirements did not settle after 6 calls")
        }
        #expect(counter.calls == 6)
    }

    @Test("An unanswerable selector gets an empty answer, not an error")
    func unanswerable() throws {
        final class Seen: @unchecked Sendable { var answers: [[String: [Resource]]] = [] }
        let seen = Seen()
        let renderer = Renderer { request in
            seen.answers.append(request.requiredResources)
            var r = RunResponse(to: request)
            r.requirements = Requirements(resources: [
                "missing": ResourceSelector(
                    apiVersion: "v1", kind: "Secret", match: .name("nope"), namespace: "ns")
            ])
            return r
        }
        let out = try renderer.render(RenderInput(xr: xr, composition: composition, functions: functions))
        #expect(out.fatal == nil)
        #expect(seen.answers.count == 2, "second call sees the same requirements answered, then settles")
        #expect(seen.answers.last == ["missing": []])
    }

    @Test("Selectors match by apiVersion, kind, name or labels, and namespace")
    func answers() {
        let supplied: [Value] = [
            ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "a", "namespace": "ns"]],
            ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "a", "namespace": "other"]],
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a", "namespace": "ns"]],
            ["apiVersion": "x/v1", "kind": "C", "metadata": ["name": "z", "labels": ["k": "v", "o": "p"]]],
            ["apiVersion": "x/v1", "kind": "C", "metadata": ["name": "y", "labels": ["k": "v"]]],
            ["apiVersion": "x/v1", "kind": "C", "metadata": ["name": "w", "labels": ["k": "other"]]],
        ]
        #expect(
            Renderer.answer(
                ResourceSelector(apiVersion: "v1", kind: "Secret", match: .name("a"), namespace: "ns"),
                from: supplied
            ).count == 1)
        let byLabels = Renderer.answer(
            ResourceSelector(apiVersion: "x/v1", kind: "C", match: .labels(["k": "v"])), from: supplied)
        #expect(byLabels.map { $0.object[path: "metadata", "name"] } == ["y", "z"])
        #expect(
            Renderer.answer(ResourceSelector(apiVersion: "x/v1", kind: "C", match: .labels([:])), from: supplied).count
                == 3)
    }

    @Test("A step naming another function is a clear error")
    func otherFunction() {
        var c = composition
        c["spec"] = ["pipeline": [["step": "p-and-t", "functionRef": ["name": "function-patch-and-transform"]]]]
        let fns = functions + [["kind": "Function", "metadata": ["name": "function-patch-and-transform"]]]
        #expect {
            try Renderer { RunResponse(to: $0) }.render(RenderInput(xr: xr, composition: c, functions: fns))
        } throws: {
            "\($0)".contains(
                "uses function \"function-patch-and-transform\"; this render runs only function-modelcache")
        }
    }

    @Test("Composed resources get the metadata crossplane render adds, sorted by resource name")
    func composedMetadata() throws {
        let renderer = Renderer { request in
            var r = RunResponse(to: request)
            r.desired.resources["b"] = Resource(object: ["apiVersion": "v1", "kind": "ConfigMap"], ready: .ready)
            r.desired.resources["a"] = Resource(
                object: ["apiVersion": "v1", "kind": "Secret", "metadata": ["labels": ["x": "y"]]], ready: .ready)
            return r
        }
        let out = try renderer.render(RenderInput(xr: xr, composition: composition, functions: functions))
        #expect(out.documents.count == 3)
        #expect(
            out.documents[0][path: "status", "conditions"] == [
                [
                    "type": "Ready", "status": "True", "reason": "Available",
                    "lastTransitionTime": "2024-01-01T00:00:00Z",
                ]
            ])
        let a = out.documents[1]
        #expect(a[path: "metadata", "annotations", "crossplane.io/composition-resource-name"] == "a")
        #expect(a[path: "metadata", "generateName"] == "c-")
        #expect(a[path: "metadata", "namespace"] == "ns")
        #expect(a[path: "metadata", "labels"] == ["x": "y", "crossplane.io/composite": "c"])
        #expect(
            a[path: "metadata", "ownerReferences"] == [
                [
                    "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache", "name": "c",
                    "uid": "u-1", "controller": true, "blockOwnerDeletion": true,
                ]
            ])
        #expect(out.documents[2][path: "metadata", "annotations", "crossplane.io/composition-resource-name"] == "b")
    }
}
