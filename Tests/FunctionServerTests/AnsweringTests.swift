import FunctionCore
import FunctionProto
import SwiftProtobuf
import Testing

@testable import FunctionServer

/// The service runs the request pipeline: the bytes it answers with are the
/// composed response, read back here with the generated swift-protobuf types.
@Suite("A well-formed request is answered with the composed response")
struct AnsweringTests {
    /// Calls `service` as the shim does.
    static func call(_ service: FunctionService, _ bytes: [UInt8], api: APIVersion = .v1) -> CallOutcome {
        bytes.withUnsafeBytes { service.handle(request: $0, api: api, waitedNanoseconds: 0) }
    }

    /// The response bytes of an answered call (nil, with an issue recorded, when it was refused).
    static func answer(_ outcome: CallOutcome) -> [UInt8]? {
        switch outcome {
        case .ok(let message): return Array(message.bytes)
        case .failed(let code, let message):
            Issue.record("refused with status \(code): \(message)")
            return nil
        }
    }

    @Test("A ModelCache call is answered with its claims, hydration jobs and conditions")
    func modelCache() throws {
        let service = FunctionService(log: LogCapture.discarding)
        let outcome = Self.call(service, try Requests.bytes(Requests.modelCache(clusters: ["gpu-east", "gpu-west"])))
        let response = try WireResponse(serializedBytes: try #require(Self.answer(outcome)))
        #expect(response.meta.tag == "unit")
        #expect(!response.results.contains { $0.severity == .fatal })
        #expect(
            response.desired.resources.keys.sorted() == [
                "hydrate-sa-gpu-east", "hydrate-sa-gpu-west", "pvc-gpu-east", "pvc-gpu-west",
            ], "the Jobs wait for their ServiceAccounts (hydrator.md §4)")
        let claim = Value(response.desired.resources["pvc-gpu-east"]!.resource)
        #expect(claim[path: "spec", "forProvider", "manifest", "spec", "storageClassName"] == "fast-rwx")
        #expect(
            Dictionary(uniqueKeysWithValues: response.conditions.map { ($0.type, $0.reason) }) == [
                "ClustersMatched": "Matched", "ArtifactReady": "Hydrating",
            ])
        #expect(response.requirements.resources["clusters"]?.kind == "InferenceCluster")
    }

    @Test("The answer is the composer's response, byte for byte, on either API version")
    func sameAsComposer() throws {
        let service = FunctionService(log: LogCapture.discarding)
        let request = try Requests.modelCache()
        let bytes = try Requests.bytes(request)
        let expected = Wire.encodeResponse(Composer().run(RunRequest(request)))
        #expect(Self.answer(Self.call(service, bytes, api: .v1)) == expected)
        #expect(Self.answer(Self.call(service, bytes, api: .v1beta1)) == expected)
    }

    @Test("A kind this function does not compose is answered OK with a Fatal result, earlier steps' desired state kept")
    func foreignKind() throws {
        let service = FunctionService(log: LogCapture.discarding)
        let request = try Requests.foreignKind()
        let response = try WireResponse(
            serializedBytes: try #require(Self.answer(Self.call(service, try Requests.bytes(request)))))
        #expect(response.results.map(\.severity) == [.fatal])
        #expect(response.results.first?.message.contains("example.org/v1 Database") == true)
        #expect(response.desired.resources == request.desired.resources)
    }
}
