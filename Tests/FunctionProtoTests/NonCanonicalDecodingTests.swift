import Foundation
import FunctionCore
import SwiftProtobuf
import Testing
import WireTestSupport

@testable import FunctionProto

/// The decoder reads every valid encoding of a request as swift-protobuf does,
/// not only the canonical one: split and repeated message fields merge, the
/// last scalar and the last map entry win, map entries may hold the value
/// before the key, unknown fields are skipped. Compared on the raw bytes.
@Suite struct NonCanonicalDecodingTests {
    /// A request touching every field the decoder reads.
    static let full: RunRequest = {
        var r = RunRequest(
            tag: "t", capabilities: [.capabilities, .requiredResources, .conditions, .unknown(42)],
            observed: State(
                composite: Resource(object: [
                    "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
                    "spec": ["a": [1, 2.5, "x", true, .null, [:], [], [["k": "v"]]]],
                    "status": ["clusters": [["name": "c1", "phase": "Ready"]]],
                ]),
                resources: [
                    "pvc-c1": Resource(
                        object: [
                            "status": [
                                "conditions": [["type": "Ready", "status": "True"]],
                                "atProvider": ["manifest": ["metadata": ["name": "m"], "status": ["phase": "Bound"]]],
                            ]
                        ],
                        connectionDetails: ["p": Data([1, 2])], ready: .ready),
                    "job-c1": Resource(
                        object: ["kind": "Object", "spec": ["x": ["y": ["z": [[[]]]]]]], ready: .notReady),
                ]),
            desired: State(resources: ["d": Resource(object: ["é": "ü", "": ""], ready: .notReady)]),
            input: ["i": 1, "nested": ["deeper": ["list": [1, 2, 3]]]], context: ["c": ["d": "e"]],
            requiredResources: [
                "clusters": [
                    Resource(object: ["metadata": ["name": "c1", "labels": ["a": "b"]]]),
                    Resource(object: ["y": 2]),
                ], "none": [],
            ],
            credentials: ["creds": ["password": Data("s3cret".utf8)]])
        r.observed.composite?.object["big"] = .double(1e300)
        return r
    }()

    static func reference(_ bytes: [UInt8]) throws -> RunRequest {
        try bytes.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) }
    }

    static func fast(_ bytes: [UInt8]) throws -> RunRequest {
        try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
    }

    @Test("A Struct entry whose value appears twice merges: [1] then [2] reads [1, 2], as swift-protobuf reads it")
    func repeatedValueMerges() throws {
        // input { fields { key: "a" value { list_value { values { number_value: 1 } } }
        //                            value { list_value { values { number_value: 2 } } } } }
        func number(_ d: Double) -> [UInt8] { [0x11] + withUnsafeBytes(of: d.bitPattern.littleEndian, Array.init) }
        func item(_ d: Double) -> [UInt8] { [0x0A, 9] + number(d) }
        func listValue(_ d: Double) -> [UInt8] { [0x32, 11] + item(d) }
        let entry: [UInt8] = [0x0A, 1, 0x61] + [0x12, 13] + listValue(1) + [0x12, 13] + listValue(2)
        let structBody: [UInt8] = [0x0A, UInt8(entry.count)] + entry
        let bytes: [UInt8] = [0x22, UInt8(structBody.count)] + structBody
        #expect(try Self.reference(bytes).input == ["a": [1, 2]])
        #expect(try Self.fast(bytes).input == ["a": [1, 2]])
        #expect(try Self.fast(bytes).input?["a"] == [1, 2], "a lookup on the deferred object reads the same")
    }

    @Test(
        "Objects split in two merge, the last scalar wins, value-before-key and unknown fields read as protobuf reads them",
        arguments: 0..<150)
    func variants(seed: Int) throws {
        let original = try Wire.encodeRequest(Self.full)
        let variant = try #require(NonCanonicalEncoding.variant(of: original, seed: UInt64(seed)))
        let reference = try Self.reference(variant)
        #expect(try Wire.encodeRequest(reference) == original, "the generator keeps the meaning")
        // Field by field, through lookups on the deferred objects (what the composers do) ...
        try Self.expectSameByLookup(try Self.fast(variant), reference)
        // ... and through a full decode of everything.
        #expect(try Wire.encodeRequest(try Self.fast(variant)) == original)
    }

    @Test("Every benchmark-shaped request's variants decode as swift-protobuf decodes them")
    func benchmarkShaped() throws {
        let original = try Wire.encodeRequest(BenchmarkShape.request(clusters: 20, observed: true))
        for seed in 0..<20 {
            let variant = try #require(NonCanonicalEncoding.variant(of: original, seed: UInt64(1000 + seed)))
            #expect(variant != original, "a large request always gets rewritten somewhere")
            let reference = try Self.reference(variant)
            try Self.expectSameByLookup(try Self.fast(variant), reference)
            #expect(try Wire.encodeRequest(try Self.fast(variant)) == original)
        }
    }

    /// Compares two requests field by field, reading the fast one's objects only by key lookups.
    static func expectSameByLookup(
        _ fast: RunRequest, _ reference: RunRequest, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(
            fast.tag == reference.tag && fast.capabilities == reference.capabilities, sourceLocation: sourceLocation)
        func same(_ a: Value?, _ b: Value?, _ path: String) {
            switch b {
            case .object(let fields)?:
                for (key, value) in fields { same(a?[key], value, path + "." + key) }
                // A list of objects searched in place finds what a search of the decoded list finds.
                for (key, value) in fields {
                    for item in value.listValue?.prefix(2) ?? [] {
                        for (field, v) in item.objectValue ?? [:] {
                            guard let wanted = v.stringValue else { continue }
                            let first = value.listValue?.first { $0[field]?.stringValue == wanted }
                            same(
                                a?.firstObject(inListAt: key, where: field, is: wanted), first,
                                "\(path).\(key)[\(field)=\(wanted)]")
                            // Each field of that object read in place, without building it.
                            for (other, expected) in first?.objectValue ?? [:] {
                                same(
                                    a?.value(ofField: other, inFirstObjectInListAt: key, where: field, is: wanted),
                                    expected, "\(path).\(key)[\(field)=\(wanted)].\(other)")
                            }
                        }
                    }
                }
                #expect(a?["no such key"] == nil, "\(path)", sourceLocation: sourceLocation)
                #expect(a?.objectValue?.count == fields.count, "\(path)", sourceLocation: sourceLocation)
            case .list(let items)?:
                let mine = a?.listValue
                #expect(mine?.count == items.count, "\(path)", sourceLocation: sourceLocation)
                for (i, item) in items.enumerated() where i < (mine?.count ?? 0) {
                    same(mine?[i], item, "\(path)[\(i)]")
                }
            default:
                #expect(a == b, "\(path)", sourceLocation: sourceLocation)
            }
        }
        func sameState(_ a: State, _ b: State, _ name: String) {
            same(a.composite?.object, b.composite?.object, name + ".composite")
            #expect(a.composite?.ready == b.composite?.ready, sourceLocation: sourceLocation)
            #expect(Set(a.resources.keys) == Set(b.resources.keys), sourceLocation: sourceLocation)
            for (k, r) in b.resources {
                same(a.resources[k]?.object, r.object, "\(name)[\(k)]")
                #expect(
                    a.resources[k]?.ready == r.ready && a.resources[k]?.connectionDetails == r.connectionDetails,
                    sourceLocation: sourceLocation)
            }
        }
        sameState(fast.observed, reference.observed, "observed")
        sameState(fast.desired, reference.desired, "desired")
        same(fast.input, reference.input, "input")
        same(fast.context, reference.context, "context")
        #expect(
            Set(fast.requiredResources.keys) == Set(reference.requiredResources.keys), sourceLocation: sourceLocation)
        for (k, items) in reference.requiredResources {
            #expect(fast.requiredResources[k]?.count == items.count, sourceLocation: sourceLocation)
            for (i, item) in items.enumerated() where i < (fast.requiredResources[k]?.count ?? 0) {
                same(fast.requiredResources[k]?[i].object, item.object, "required[\(k)][\(i)]")
            }
        }
        #expect(fast.credentials == reference.credentials, sourceLocation: sourceLocation)
    }
}
