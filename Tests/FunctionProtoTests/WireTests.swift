import Foundation
import FunctionCore
import SwiftProtobuf
import Testing

@testable import FunctionProto

/// Round trips through the wire types: what Crossplane sends must come back unchanged.
@Suite struct WireTests {
    static let object: Value = [
        "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
        "metadata": ["name": "qwen", "namespace": "ml-team", "labels": ["a": "b"]],
        "spec": ["replicas": 3, "ratio": 0.5, "nothing": .null, "flag": true, "list": [1, "two", [3.25], ["k": []]]],
    ]

    func encodeRequest(_ r: RunRequest) throws -> [UInt8] { try Wire.encodeRequest(r) }

    func decode(_ bytes: [UInt8]) throws -> RunRequest {
        try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
    }

    @Test("Objects, integers, doubles, nulls and nested lists survive a wire round trip")
    func valueRoundTrip() throws {
        let back = Value(Self.object.protoStruct)
        #expect(back == Self.object)
        #expect(back[path: "spec", "replicas"] == .int(3))
        #expect(back[path: "spec", "ratio"] == .double(0.5))
        #expect(back[path: "spec", "nothing"] == .null)
    }

    @Test("Integral numbers beyond 2^53 stay doubles instead of silently losing precision")
    func hugeNumbers() {
        #expect(Value.number(9_007_199_254_740_992) == .int(9_007_199_254_740_992))
        #expect(Value.number(1e300) == .double(1e300))
        #expect(Value.number(-0.0) == .int(0))
    }

    @Test("Absent and empty context, input and required resources stay distinguishable")
    func emptyVersusAbsent() throws {
        let absent = try decode(try encodeRequest(RunRequest(tag: "t")))
        #expect(absent.context == nil)
        #expect(absent.input == nil)
        #expect(absent.requiredResources.isEmpty)

        let empty = try decode(
            try encodeRequest(
                RunRequest(
                    tag: "t", input: .object([:]), context: .object([:]), requiredResources: ["clusters": []])))
        #expect(empty.context == .object([:]))
        #expect(empty.input == .object([:]))
        #expect(empty.requiredResources == ["clusters": []])
    }

    @Test("A response without context carries none; one with context carries it unchanged")
    func responseContext() throws {
        var r = RunResponse(to: RunRequest(tag: "x"))
        #expect(!WireResponse(r).hasContext)
        r.context = ["apiextensions.crossplane.io/environment": ["k": 1]]
        let wire = WireResponse(r)
        #expect(wire.hasContext)
        #expect(Value(wire.context) == r.context)
    }

    @Test("A request's state decodes to the same model it was built from")
    func requestRoundTrip() throws {
        let request = RunRequest(
            tag: "abc",
            observed: State(
                composite: Resource(object: Self.object), resources: ["pvc": Resource(object: ["kind": "Object"])]),
            desired: State(resources: ["other": Resource(object: ["x": 1], ready: .ready)]),
            context: ["k": "v"],
            requiredResources: ["clusters": [Resource(object: ["kind": "InferenceCluster"])]])
        #expect(try decode(try encodeRequest(request)) == request)
    }

    @Test("The fast encoder writes exactly swift-protobuf's deterministic bytes")
    func encoderMatchesReference() throws {
        var r = RunResponse(to: RunRequest(tag: "t", context: ["k": [1, 2.5, "x", true, false, .null, [:], []]]))
        r.desired.composite = Resource(object: ["status": ["n": 0, "neg": -3, "big": 1e300, "s": ""]], ready: .ready)
        r.desired.resources["a"] = Resource(
            object: Self.object, connectionDetails: ["pw": Data([0, 1, 2])], ready: .notReady)
        r.desired.resources["é"] = Resource(object: [:])
        r.desired.resources["B"] = Resource(object: ["x": ["y": ["z": [[[]]]]]])
        r.results = [.fatal("boom", reason: "Bad"), FunctionResult(severity: .normal, message: "")]
        r.conditions = [
            Condition(type: "A", status: .true, reason: "R", message: ""),
            Condition(type: "B", status: .unknown, reason: "", target: nil),
        ]
        r.requirements = Requirements(
            resources: [
                "c": ResourceSelector(apiVersion: "v", kind: "K", match: .labels([:])),
                "s": ResourceSelector(apiVersion: "v1", kind: "Secret", match: .name("n"), namespace: ""),
            ],
            schemas: ["x": SchemaSelector(apiVersion: "a", kind: "b")])
        r.output = ["o": 1]
        #expect(Wire.encodeResponse(r) == (try Wire.encodeResponseWithSwiftProtobuf(r)))
        var bare = RunResponse(to: RunRequest(), ttlSeconds: nil)
        bare.tag = ""
        #expect(Wire.encodeResponse(bare) == (try Wire.encodeResponseWithSwiftProtobuf(bare)))
        let decoded = try WireResponse(serializedBytes: Wire.encodeResponse(r))
        #expect(decoded == WireResponse(r))
    }

    @Test("Bytes that are not a RunFunctionRequest are rejected with a reason")
    func garbage() {
        #expect(throws: Wire.DecodeError.self) { try decode([0xFF, 0xFF, 0xFF]) }
    }

    @Test("Encoding is byte-identical across repeats, whatever the dictionary order")
    func deterministic() throws {
        var r = RunResponse(to: RunRequest(tag: "t"))
        for i in 0..<50 {
            r.desired.resources["res-\(i)"] = Resource(object: Self.object, ready: .ready)
        }
        r.requirements = Requirements(resources: [
            "clusters": ResourceSelector(apiVersion: "v", kind: "K", match: .labels(["b": "2", "a": "1", "c": "3"]))
        ])
        let first = Wire.encodeResponse(r)
        for _ in 0..<20 {
            // A copy rebuilt from scratch has freshly hashed dictionaries.
            var copy = RunResponse(to: RunRequest(tag: "t"))
            for i in (0..<50).reversed() {
                copy.desired.resources["res-\(i)"] = Resource(object: Value(Self.object.protoStruct), ready: .ready)
            }
            copy.requirements = r.requirements
            #expect(Wire.encodeResponse(copy) == first)
        }
    }

    @Test("Repeated subtrees decode to what was sent, and the nesting bound holds wherever a subtree repeats")
    func sharedSubtrees() throws {
        func nest(_ levels: Int, _ inner: Value) -> Value {
            (0..<levels).reduce(inner) { v, _ in ["x": v] }
        }
        let manifest: Value = [
            "apiVersion": "batch/v1", "kind": "Job",
            "spec": ["template": ["spec": ["containers": [["name": "hydrate"]]]]],
        ]
        // The same manifest under many keys: decodes equal to what was sent, as swift-protobuf reads it.
        var many = Fields()
        for i in 0..<50 { many["c\(i)"] = ["forProvider": ["manifest": manifest]] }
        let request = RunRequest(tag: "t", input: .object(many))
        let bytes = try encodeRequest(request)
        let fast = try decode(bytes)
        #expect(fast == request)
        #expect(fast == (try bytes.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) }))

        // A subtree seen shallow first must still be refused when it repeats too deep:
        // sharing may not skip the nesting bound.
        let deep = nest(60, "leaf")
        let shallowOnly = try encodeRequest(RunRequest(input: ["a": deep]))
        #expect((try? decode(shallowOnly)) != nil)
        let tooDeep = try encodeRequest(RunRequest(input: ["a": deep, "b": nest(50, deep)]))
        let tooDeepAlone = try encodeRequest(RunRequest(input: ["b": nest(50, deep)]))
        for bytes in [tooDeep, tooDeepAlone] {
            // Refused up front when checking everything, and once read when checking lazily.
            #expect(throws: Wire.DecodeError.self) {
                try bytes.withUnsafeBytes { try Wire.decodeRequest($0, checkingEverything: true) }
            }
            #expect(throws: Wire.DecodeError.self) {
                try bytes.withUnsafeBytes { try Wire.decodeRequestReadingEverything($0) }
            }
        }
    }
}
