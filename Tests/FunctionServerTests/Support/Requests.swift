import Foundation
import FunctionProto
import SwiftProtobuf

/// RunFunctionRequests for the server's tests, written with the generated
/// swift-protobuf types (as Crossplane's own client would build them).
enum Requests {
    /// The secret value a request's credentials carry (it must never be logged).
    static let secret = "do-not-log-this-secret"
    /// A value inside the XR's spec (object contents, which are never logged).
    static let specValue = "Qwen/Qwen2.5-0.5B-Instruct"

    /// A ModelCache answered with `clusters` and no consumers, and a credential.
    static func modelCache(tag: String = "unit", clusters: [String] = ["gpu-east"]) throws -> WireRequest {
        var request = WireRequest()
        request.meta.tag = tag
        request.observed.composite.resource = try Google_Protobuf_Struct(
            jsonString: """
                {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
                 "metadata": {"name": "qwen-2-5", "namespace": "ml-team"},
                 "spec": {"artifact": {"source": {"huggingFace": {"repo": "\(specValue)"}}},
                          "mount": {"path": "/models/qwen"}}}
                """)
        // A ModelCache also asks for its consumers (Usages); answered: none.
        request.requiredResources["consumers"] = Apiextensions_Fn_Proto_V1_Resources()
        var items = Apiextensions_Fn_Proto_V1_Resources()
        for name in clusters {
            var cluster = Apiextensions_Fn_Proto_V1_Resource()
            cluster.resource = try Google_Protobuf_Struct(
                jsonString: """
                    {"apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster", "metadata": {"name": "\(name)"},
                     "spec": {"storage": {"rwxCache": {"storageClassName": "fast-rwx", "defaultSizeGiB": 300}}},
                     "status": {"providerConfigRef": {"name": "pc-\(name)"}}}
                    """)
            items.items.append(cluster)
        }
        request.requiredResources["clusters"] = items
        var data = Apiextensions_Fn_Proto_V1_CredentialData()
        data.data["password"] = Data(secret.utf8)
        request.credentials["creds", default: .init()].credentialData = data
        return request
    }

    /// A call for a kind this function does not compose, after an earlier step
    /// that desired a bucket: answered with a Fatal result.
    static func foreignKind() throws -> WireRequest {
        var request = WireRequest()
        request.meta.tag = "foreign"
        request.observed.composite.resource = try Google_Protobuf_Struct(
            jsonString: #"{"apiVersion": "example.org/v1", "kind": "Database", "metadata": {"name": "db"}}"#)
        request.desired.resources["bucket", default: .init()].resource = try Google_Protobuf_Struct(
            jsonString: #"{"apiVersion": "s3/v1", "kind": "Bucket", "spec": {"size": 3}}"#)
        return request
    }

    /// `request`'s bytes.
    static func bytes(_ request: WireRequest) throws -> [UInt8] {
        try request.serializedBytes()
    }

    /// `bytes` with the first byte of the first occurrence of `needle` made
    /// 0xFF, so that the string holding it is no longer valid UTF-8.
    static func corrupting(_ needle: String, in bytes: [UInt8]) -> [UInt8]? {
        let pattern = Array(needle.utf8)
        guard
            let at = bytes.indices.first(where: {
                $0 + pattern.count <= bytes.count && bytes[$0..<$0 + pattern.count].elementsEqual(pattern)
            })
        else { return nil }
        var corrupted = bytes
        corrupted[at] = 0xFF
        return corrupted
    }
}
