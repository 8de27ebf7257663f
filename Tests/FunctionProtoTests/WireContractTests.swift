import Foundation
import FunctionCore
import SwiftProtobuf
import Testing

@testable import FunctionProto

/// `WireContract` is the one map of the wire: it must account for every field
/// and enum value of the generated code (so a new proto field cannot be
/// silently ignored), and the hand-written encoder must write exactly
/// swift-protobuf's bytes for every golden response and a 1,000-cluster one.
@Suite struct WireContractTests {
    /// The field numbers a generated message type knows, found through its public
    /// decoder: a field it does not know lands in its unknown fields.
    static func generatedFields<M: SwiftProtobuf.Message>(_: M.Type) -> Set<Int> {
        func tag(_ number: Int, _ wire: Int) -> [UInt8] {
            var v = number << 3 | wire
            var out: [UInt8] = []
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            return out + [UInt8(v)]
        }
        var known = Set<Int>()
        for number in 1...200 {
            // Each wire type once: a known field accepts at least its own (an empty body, a zero).
            for encoding in [
                tag(number, 2) + [0], tag(number, 0) + [0], tag(number, 1) + [UInt8](repeating: 0, count: 8),
            ] {
                if let m = try? M(serializedBytes: encoding), m.unknownFields.data.isEmpty { known.insert(number) }
            }
        }
        return known
    }

    static let entries: [(String, Set<Int>, Set<Int>)] = [
        ("RunFunctionRequest", generatedFields(WireRequest.self), Set(WireContract.Request.read)),
        (
            "RequestMeta", generatedFields(Apiextensions_Fn_Proto_V1_RequestMeta.self),
            Set(WireContract.RequestMeta.read)
        ),
        ("State", generatedFields(Apiextensions_Fn_Proto_V1_State.self), Set(WireContract.State.all)),
        ("Resource", generatedFields(Apiextensions_Fn_Proto_V1_Resource.self), Set(WireContract.Resource.all)),
        ("Resources", generatedFields(Apiextensions_Fn_Proto_V1_Resources.self), Set(WireContract.Resources.read)),
        (
            "Credentials", generatedFields(Apiextensions_Fn_Proto_V1_Credentials.self),
            Set(WireContract.Credentials.read)
        ),
        (
            "CredentialData", generatedFields(Apiextensions_Fn_Proto_V1_CredentialData.self),
            Set(WireContract.CredentialData.read)
        ),
        ("Schema", generatedFields(Apiextensions_Fn_Proto_V1_Schema.self), Set(WireContract.Schema.read)),
        ("RunFunctionResponse", generatedFields(WireResponse.self), Set(WireContract.Response.written)),
        (
            "ResponseMeta", generatedFields(Apiextensions_Fn_Proto_V1_ResponseMeta.self),
            Set(WireContract.ResponseMeta.written)
        ),
        (
            "Duration", generatedFields(Google_Protobuf_Duration.self),
            Set(WireContract.Duration.written).union(WireContract.Duration.ignored.keys)
        ),
        ("Result", generatedFields(Apiextensions_Fn_Proto_V1_Result.self), Set(WireContract.Result.written)),
        ("Condition", generatedFields(Apiextensions_Fn_Proto_V1_Condition.self), Set(WireContract.Condition.written)),
        (
            "Requirements", generatedFields(Apiextensions_Fn_Proto_V1_Requirements.self),
            Set(WireContract.Requirements.written).union(WireContract.Requirements.ignored.keys)
        ),
        (
            "ResourceSelector", generatedFields(Apiextensions_Fn_Proto_V1_ResourceSelector.self),
            Set(WireContract.ResourceSelector.written)
        ),
        (
            "MatchLabels", generatedFields(Apiextensions_Fn_Proto_V1_MatchLabels.self),
            Set(WireContract.MatchLabels.written)
        ),
        (
            "SchemaSelector", generatedFields(Apiextensions_Fn_Proto_V1_SchemaSelector.self),
            Set(WireContract.SchemaSelector.written)
        ),
        ("Struct", generatedFields(Google_Protobuf_Struct.self), Set(WireContract.Struct.all)),
        ("Value", generatedFields(Google_Protobuf_Value.self), Set(WireContract.Value.all)),
        ("ListValue", generatedFields(Google_Protobuf_ListValue.self), Set(WireContract.ListValue.all)),
    ]

    @Test(
        "Every field of the generated messages is read, written or deliberately left alone by the codecs",
        arguments: entries.map { $0.0 })
    func fieldsAccountedFor(_ message: String) {
        let (_, generated, handled) = Self.entries.first { $0.0 == message }!
        #expect(!generated.isEmpty, "the probe finds the generated fields")
        #expect(generated == handled, "\(message): generated \(generated.sorted()), codecs \(handled.sorted())")
    }

    @Test("The probe notices a field the generated code does not know")
    func probeNoticesUnknown() {
        // Struct has one field; a request has nine: a map missing one would fail above.
        #expect(Self.generatedFields(Google_Protobuf_Struct.self) == [1])
        #expect(Self.generatedFields(WireRequest.self).count == 9)
    }

    @Test("Every generated enum value maps to the core model and back through WireContract")
    func enums() {
        for c in Apiextensions_Fn_Proto_V1_Ready.allCases {
            #expect(Readiness(wireNumber: c.rawValue).wireNumber == c.rawValue)
        }
        for c in Apiextensions_Fn_Proto_V1_Severity.allCases where c != .unspecified {
            #expect(Severity(wireNumber: c.rawValue).wireNumber == c.rawValue)
        }
        for c in Apiextensions_Fn_Proto_V1_Status.allCases where c != .conditionUnspecified {
            #expect(ConditionStatus(wireNumber: c.rawValue).wireNumber == c.rawValue)
        }
        for c in Apiextensions_Fn_Proto_V1_Target.allCases where c != .unspecified {
            #expect(Target(wireNumber: c.rawValue)?.wireNumber == c.rawValue)
        }
        for c in Apiextensions_Fn_Proto_V1_Capability.allCases {
            #expect(Capability(wireNumber: c.rawValue).wireNumber == c.rawValue)
            if c != .unspecified {
                #expect(Capability(wireNumber: c.rawValue) != .unknown(c.rawValue), "\(c) has a name in the core")
            }
        }
        // The core's cases are all reachable from the wire (no core value without a wire number).
        #expect(Set([Readiness.unspecified, .ready, .notReady].map(\.wireNumber)).count == 3)
        #expect(Set([Severity.fatal, .warning, .normal].map(\.wireNumber)) == [1, 2, 3])
        #expect(Set([ConditionStatus.unknown, .true, .false].map(\.wireNumber)) == [1, 2, 3])
    }

    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FunctionCoreTests/Golden")

    static func goldens() -> [String] {
        let e = FileManager.default.enumerator(atPath: goldenFolder.path)
        return ((e?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    @Test("There are golden responses") func goldensPresent() { #expect(Self.goldens().count >= 10) }

    @Test("The encoder writes swift-protobuf's bytes for every golden response", arguments: goldens())
    func goldenBytes(_ name: String) throws {
        let json = try String(contentsOf: Self.goldenFolder.appendingPathComponent(name), encoding: .utf8)
        let wire = try WireResponse(jsonString: json)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let reference: [UInt8] = try wire.serializedBytes(options: options)
        let response = try Wire.decodeResponse(reference)
        #expect(Wire.encodeResponse(response) == reference)
    }

    @Test("The encoder writes swift-protobuf's bytes for a 1,000-cluster response, decoded lazily from its request")
    func thousandClusters() throws {
        for observed in [false, true] {
            let bytes = try Wire.encodeRequest(BenchmarkShape.request(clusters: 1000, observed: observed))
            let request = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
            let response = Composer().run(request)
            #expect(!response.isFatal && response.desired.resources.count >= 1000)
            #expect(Wire.encodeResponse(response) == (try Wire.encodeResponseWithSwiftProtobuf(response)))
            // And the response is what composing swift-protobuf's reading of the request gives.
            let reference = try bytes.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) }
            #expect(Wire.encodeResponse(Composer().run(reference)) == Wire.encodeResponse(response))
        }
    }
}
