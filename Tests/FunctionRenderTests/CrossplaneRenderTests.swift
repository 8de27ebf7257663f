import FunctionCore
import Testing

@testable import FunctionRender

/// Classic `crossplane render` (v2.0–v2.2, `cmd/crank/render/render.go`),
/// transcribed step by step from its Go code and kept apart from
/// `RenderedObjects`, so the two can be compared on every scenario.
enum CrossplaneRenderReference {
    /// `conditionTime()` in render.go.
    static let time: Value = "2024-01-01T00:00:00Z"

    /// The documents render.go prints for the final response of a one-step pipeline.
    static func documents(
        xr: Value, observed: [Value], final rsp: RunResponse, step: String,
        results allResults: [FunctionResult]
    ) -> [Value] {
        // for name, dr := range d.GetResources(): unready, FromStruct, keep the observed name, SetComposedResourceMetadata.
        var unready: [String] = []
        var desired: [(String, Value)] = []
        for (name, dr) in rsp.desired.resources {
            if dr.ready != .ready { unready.append(name) }
            var cd = dr.object
            if let or = observed.first(where: {
                $0[path: "metadata", "annotations", "crossplane.io/composition-resource-name"]?.stringValue == name
            }) {
                cd = set(cd, "namespace", or[path: "metadata", "namespace"]?.stringValue ?? "")
                cd = set(cd, "name", or[path: "metadata", "name"]?.stringValue ?? "")
                cd = set(cd, "generateName", or[path: "metadata", "generateName"]?.stringValue ?? "")
            }
            desired.append((name, composedMetadata(cd, xr: xr, name: name)))
        }
        desired.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }

        // xr := FromStruct(d.GetComposite()); SetAPIVersion, SetKind, SetName, SetNamespace.
        var out: Value = rsp.desired.composite?.object ?? .object([:])
        out["apiVersion"] = xr["apiVersion"] ?? ""
        out["kind"] = xr["kind"] ?? ""
        out = set(out, "name", xr[path: "metadata", "name"]?.stringValue ?? "")
        out = set(out, "namespace", xr[path: "metadata", "namespace"]?.stringValue ?? "")

        // xrCond := Available(); Creating() when declared not ready, or unspecified with unready resources.
        var xrCond: Value = ["type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": time]
        if rsp.desired.composite?.ready == .notReady {
            xrCond = ["type": "Ready", "status": "False", "reason": "Creating", "lastTransitionTime": time]
        } else if (rsp.desired.composite?.ready ?? .unspecified) == .unspecified, !unready.isEmpty {
            xrCond = [
                "type": "Ready", "status": "False", "reason": "Creating", "lastTransitionTime": time,
                "message": .string("Unready resources: \(stableNAndSomeMore(unready))"),
            ]
        }
        var conditions: [Value] = []
        setConditions(&conditions, xrCond)
        for c in rsp.conditions where !["Ready", "Synced", "Healthy"].contains(c.type) {
            var v: Value = [
                "type": .string(c.type), "reason": .string(c.reason), "lastTransitionTime": time,
                "status": c.status == .true ? "True" : c.status == .false ? "False" : "Unknown",
            ]
            if let m = c.message, !m.isEmpty { v["message"] = .string(m) }
            setConditions(&conditions, v)
        }
        var status = out["status"] ?? .object([:])
        status["conditions"] = .list(conditions)
        out["status"] = status

        // Results: every non-fatal one, in order, with step, severity and message.
        let results: [Value] = allResults.filter { $0.severity != .fatal }.map { r in
            [
                "apiVersion": "render.crossplane.io/v1beta1", "kind": "Result", "step": .string(step),
                "severity": r.severity == .warning ? "SEVERITY_WARNING" : "SEVERITY_NORMAL",
                "message": .string(r.message),
            ]
        }
        return [out] + desired.map(\.1) + results
    }

    /// crossplane-runtime's `StableNAndSomeMore(DefaultFirstN, names)`.
    static func stableNAndSomeMore(_ names: [String]) -> String {
        let s = names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        if s.count > 3 { return "\(s[0]), \(s[1]), \(s[2]), and \(s.count - 3) more" }
        if s.count == 3 { return "\(s[0]), \(s[1]), and \(s[2])" }
        return s.joined(separator: ", ")
    }

    /// `ConditionedStatus.SetConditions` for one condition (the fixed time makes "equal" plain equality).
    static func setConditions(_ list: inout [Value], _ c: Value) {
        if let i = list.firstIndex(where: { $0["type"] == c["type"] }) { list[i] = c } else { list.append(c) }
    }

    /// `SetComposedResourceMetadata` for an XR without claim labels.
    static func composedMetadata(_ cd: Value, xr: Value, name: String) -> Value {
        var cd = cd
        let xrName = xr[path: "metadata", "name"]?.stringValue ?? ""
        if (cd[path: "metadata", "name"]?.stringValue ?? "").isEmpty,
            (cd[path: "metadata", "generateName"]?.stringValue ?? "").isEmpty
        {
            cd = set(cd, "generateName", xrName + "-")
        }
        if let ns = xr[path: "metadata", "namespace"]?.stringValue, !ns.isEmpty { cd = set(cd, "namespace", ns) }
        var meta = cd["metadata"] ?? .object([:])
        var annotations = meta["annotations"] ?? .object([:])
        annotations["crossplane.io/composition-resource-name"] = .string(name)
        meta["annotations"] = annotations
        var labels = meta["labels"] ?? .object([:])
        labels["crossplane.io/composite"] = .string(xrName)
        meta["labels"] = labels
        meta["ownerReferences"] = [
            [
                "apiVersion": xr["apiVersion"] ?? "", "kind": xr["kind"] ?? "", "name": .string(xrName),
                "uid": xr[path: "metadata", "uid"] ?? "", "controller": true, "blockOwnerDeletion": true,
            ]
        ]
        cd["metadata"] = meta
        return cd
    }

    /// Go's unstructured `SetName`-style setters: an empty value removes the field.
    static func set(_ object: Value, _ field: String, _ value: String) -> Value {
        var o = object
        var meta = o["metadata"] ?? .object([:])
        meta[field] = value.isEmpty ? nil : .string(value)
        o["metadata"] = meta
        return o
    }
}

@Suite struct CrossplaneRenderTests {
    @Test("Every scenario renders what classic crossplane render's algorithm prints", arguments: Scenario.all())
    func scenarioMatchesCrossplaneRender(_ s: Scenario) throws {
        final class Last: @unchecked Sendable {
            var response: RunResponse?
            var results: [FunctionResult] = []
        }
        let last = Last()
        let composer = Composer()
        var options = RenderOptions()
        options.includeResults = true
        let input = try s.input()
        let output = try Renderer { request in
            let response = composer.run(request)
            last.response = response
            last.results = response.results
            return response
        }.render(input, options: options)
        if output.fatal != nil { return }  // Invalid scenarios print nothing; ScenarioTests checks their message.
        let step = try #require(input.composition[path: "spec", "pipeline"]?.listValue?.first?["step"]?.stringValue)
        #expect(
            input.composition[path: "spec", "pipeline"]?.listValue?.count == 1,
            "the reference covers one-step pipelines")
        let want = CrossplaneRenderReference.documents(
            xr: input.xr, observed: input.observed, final: try #require(last.response), step: step,
            results: last.results)
        #expect(want.count == output.documents.count, "\(s.name): document count")
        for (i, (w, got)) in zip(want, output.documents).enumerated() where w != got {
            Issue.record("\(s.name) document \(i):\ncrossplane render:\n\(w)\nours:\n\(got)")
        }
    }

    @Test(
        "Every rendered scenario puts Ready first and stamps every condition with 2024-01-01T00:00:00Z",
        arguments: Scenario.all())
    func conditionsAsCrossplanePrintsThem(_ s: Scenario) throws {
        let output = try Renderer { Composer().run($0) }.render(try s.input())
        guard output.fatal == nil else { return }
        let conditions = try #require(output.documents[0][path: "status", "conditions"]?.listValue)
        #expect(conditions.first?["type"] == "Ready")
        #expect(conditions.allSatisfy { $0["lastTransitionTime"] == "2024-01-01T00:00:00Z" })
        #expect(
            Set(conditions.compactMap { $0["type"]?.stringValue }).count == conditions.count, "one condition per type")
    }
}

/// The parts of render's output that no scenario reaches, one case each.
@Suite struct RenderedObjectsTests {
    let xr: Value = [
        "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
        "metadata": ["name": "c", "namespace": "ns", "uid": "u-1"],
    ]

    @Test(
        "Unready resources are named as crossplane-runtime names them",
        arguments: [
            ([], ""), (["b"], "b"), (["b", "a"], "a, b"), (["c", "a", "b"], "a, b, and c"),
            (["e", "d", "c", "b", "a"], "a, b, c, and 2 more"),
        ] as [([String], String)])
    func unreadyNames(_ names: [String], _ expected: String) {
        #expect(RenderedObjects.firstNAndSomeMore(names.sorted(by: utf8Less)) == expected)
    }

    @Test("Ready: declared readiness wins; otherwise Creating names the unready resources")
    func ready() {
        var d = State(resources: ["a": Resource(object: [:], ready: .ready), "b": Resource(object: [:])])
        #expect(
            RenderedObjects.ready(d) == [
                "type": "Ready", "status": "False", "reason": "Creating",
                "message": "Unready resources: b", "lastTransitionTime": "2024-01-01T00:00:00Z",
            ])
        d.composite = Resource(object: [:], ready: .ready)
        #expect(RenderedObjects.ready(d)["reason"] == "Available")
        d.composite = Resource(object: [:], ready: .notReady)
        #expect(RenderedObjects.ready(d)["message"] == nil)
    }

    @Test("A later condition of a type replaces the earlier one in place; system types are dropped")
    func conditionOrder() {
        let cs = [
            Condition(type: "A", status: .false, reason: "One"), Condition(type: "B", status: .true, reason: "Two"),
            Condition(type: "Synced", status: .true, reason: "Mine"),
            Condition(type: "A", status: .true, reason: "Three"),
        ]
        let out = RenderedObjects.xr(xr, desired: State(), conditions: cs, full: false)
        #expect(out[path: "status", "conditions"]?.listValue?.map { $0["type"]!.stringValue! } == ["Ready", "A", "B"])
        #expect(out[path: "status", "conditions"]?.listValue?[1]["reason"] == "Three")
    }

    @Test("-x replaces the desired XR's spec and metadata with the input's, and keeps the desired status only")
    func fullXR() {
        var input = xr
        input["spec"] = ["x": 1]
        input["status"] = ["old": true]
        let desired = State(composite: Resource(object: ["status": ["new": true]]))
        let out = RenderedObjects.xr(input, desired: desired, conditions: [], full: true)
        #expect(out["spec"] == ["x": 1])
        #expect(out["metadata"] == input["metadata"])
        #expect(out[path: "status", "old"] == nil)
        #expect(out[path: "status", "new"] == true)
    }

    @Test("An observed resource keeps its name (no generateName); a nested XR's composite label is the root's")
    func observedNameAndNestedXR() throws {
        var nested = xr
        nested["metadata"]?["labels"] = ["crossplane.io/composite": "root"]
        let observed: Value = ["metadata": ["name": "root-abc12", "namespace": "ns"]]
        let kept = try RenderedObjects.composed(["kind": "Object"], key: "k", xr: nested, observed: observed)
        #expect(kept[path: "metadata", "name"] == "root-abc12")
        #expect(kept[path: "metadata", "generateName"] == nil)
        #expect(kept[path: "metadata", "labels", "crossplane.io/composite"] == "root")
        let fresh = try RenderedObjects.composed(["kind": "Object"], key: "k", xr: nested, observed: nil)
        #expect(fresh[path: "metadata", "generateName"] == "root-")
    }

    @Test("Owner references: the XR's replaces one with its UID, others stay, another controller is an error")
    func ownerReferences() throws {
        let other: Value = ["apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u-2"]
        let object: Value = [
            "metadata": ["ownerReferences": [other, ["apiVersion": "old", "kind": "K", "name": "c", "uid": "u-1"]]]
        ]
        let out = try RenderedObjects.composed(object, key: "k", xr: xr, observed: nil)
        let refs = try #require(out[path: "metadata", "ownerReferences"]?.listValue)
        #expect(refs.count == 2)
        #expect(refs[0] == other)
        #expect(refs[1]["apiVersion"] == "modelplane.ai/v1alpha1" && refs[1]["controller"] == true)
        let controlled: Value = [
            "metadata": [
                "ownerReferences": [
                    [
                        "apiVersion": "v1", "kind": "K", "name": "boss",
                        "uid": "u-9", "controller": true,
                    ]
                ]
            ]
        ]
        #expect { try RenderedObjects.composed(controlled, key: "k", xr: xr, observed: nil) } throws: {
            "\($0)".contains("already controlled by K boss (UID u-9)")
        }
    }

    @Test("Results carry step, severity and message, as crossplane render prints them")
    func result() {
        #expect(
            RenderedObjects.result(.warning("Careful", reason: "Why"), step: "s") == [
                "apiVersion": "render.crossplane.io/v1beta1", "kind": "Result", "step": "s",
                "severity": "SEVERITY_WARNING", "message": "Careful",
            ])
    }
}
