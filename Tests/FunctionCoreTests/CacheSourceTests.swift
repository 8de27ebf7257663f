import Testing

@testable import FunctionCore

/// A spec whose `spec.artifact.source` is `source`.
func sourced(_ source: Value) -> Value { with(Fixtures.defaultSpec, "artifact", ["source": source]) }

/// A source of another kind than huggingFace, and what its broken rule must name (sources.md §1).
let invalidSources: [Invalid] = [
    Invalid(
        name: "NoKind", spec: sourced([:]), field: "spec.artifact.source", value: nil),
    Invalid(
        name: "S3UriNotS3", spec: sourced(["s3": ["uri": "https://bucket/x"]]), field: "spec.artifact.source.s3.uri",
        value: "https://bucket/x"),
    Invalid(
        name: "S3BucketUppercase", spec: sourced(["s3": ["uri": "s3://Models/x"]]),
        field: "spec.artifact.source.s3.uri", value: "s3://Models/x"),
    Invalid(
        name: "S3BucketIP", spec: sourced(["s3": ["uri": "s3://10.0.0.1/x"]]), field: "spec.artifact.source.s3.uri",
        value: "s3://10.0.0.1/x"),
    Invalid(
        name: "S3BucketShort", spec: sourced(["s3": ["uri": "s3://ab"]]), field: "spec.artifact.source.s3.uri",
        value: "s3://ab"),
    Invalid(
        name: "S3PrefixDotDot", spec: sourced(["s3": ["uri": "s3://models/a/../b"]]),
        field: "spec.artifact.source.s3.uri", value: "s3://models/a/../b"),
    Invalid(
        name: "S3PrefixEmptySegment", spec: sourced(["s3": ["uri": "s3://models/a//b"]]),
        field: "spec.artifact.source.s3.uri", value: "s3://models/a//b"),
    Invalid(
        name: "S3OnlySlashes", spec: sourced(["s3": ["uri": "s3://models//"]]),
        field: "spec.artifact.source.s3.uri", value: "s3://models//"),
    Invalid(
        name: "S3PrefixShell", spec: sourced(["s3": ["uri": "s3://models/$(id)"]]),
        field: "spec.artifact.source.s3.uri", value: "s3://models/$(id)"),
    Invalid(
        name: "S3PrefixControl", spec: sourced(["s3": ["uri": "s3://models/a\nb"]]),
        field: "spec.artifact.source.s3.uri", value: "s3://models/a\nb"),
    Invalid(
        name: "S3EndpointNotURL", spec: sourced(["s3": ["uri": "s3://models", "endpoint": "minio:9000"]]),
        field: "spec.artifact.source.s3.endpoint", value: "minio:9000"),
    Invalid(
        name: "S3EndpointUserInfo",
        spec: sourced(["s3": ["uri": "s3://models", "endpoint": "https://key:secret@minio:9000"]]),
        field: "spec.artifact.source.s3.endpoint", value: "https://key:secret@minio:9000"),
    Invalid(
        name: "S3Region", spec: sourced(["s3": ["uri": "s3://models", "region": "us east"]]),
        field: "spec.artifact.source.s3.region", value: "us east"),
    Invalid(
        name: "S3CredentialsKeyMissing",
        spec: sourced(["s3": ["uri": "s3://models", "credentialsSecretRef": ["name": "s3", "accessKeyIdKey": "id"]]]),
        field: "spec.artifact.source.s3.credentialsSecretRef.secretAccessKeyKey", value: nil),
    Invalid(
        name: "S3CredentialsName",
        spec: sourced([
            "s3": [
                "uri": "s3://models",
                "credentialsSecretRef": ["name": "S3_Keys", "accessKeyIdKey": "id", "secretAccessKeyKey": "key"],
            ]
        ]), field: "spec.artifact.source.s3.credentialsSecretRef.name", value: "S3_Keys"),
    Invalid(
        name: "S3CredentialsNameTooLong",
        spec: sourced([
            "s3": [
                "uri": "s3://models",
                "credentialsSecretRef": [
                    "name": .string(String(repeating: "a", count: 190)), "accessKeyIdKey": "id",
                    "secretAccessKeyKey": "key",
                ],
            ]
        ]), field: "spec.artifact.source.s3.credentialsSecretRef.name", value: nil),
    Invalid(
        name: "S3SessionTokenKey",
        spec: sourced([
            "s3": [
                "uri": "s3://models",
                "credentialsSecretRef": [
                    "name": "s3", "accessKeyIdKey": "id", "secretAccessKeyKey": "key", "sessionTokenKey": "a b",
                ],
            ]
        ]), field: "spec.artifact.source.s3.credentialsSecretRef.sessionTokenKey", value: "a b"),
    Invalid(
        name: "OCINoRegistry", spec: sourced(["oci": ["reference": "models:v1"]]),
        field: "spec.artifact.source.oci.reference", value: "models:v1"),
    Invalid(
        name: "OCINoTag", spec: sourced(["oci": ["reference": "registry.internal/models/tiny"]]),
        field: "spec.artifact.source.oci.reference", value: "registry.internal/models/tiny"),
    Invalid(
        name: "OCIUppercaseRepository", spec: sourced(["oci": ["reference": "registry.internal/Models:v1"]]),
        field: "spec.artifact.source.oci.reference", value: "registry.internal/Models:v1"),
    Invalid(
        name: "OCIShortDigest", spec: sourced(["oci": ["reference": "registry.internal/models@sha256:abc"]]),
        field: "spec.artifact.source.oci.reference", value: "registry.internal/models@sha256:abc"),
    Invalid(
        name: "OCITagAndDigest",
        spec: sourced([
            "oci": ["reference": .string("registry.internal/models:v1@sha256:" + String(repeating: "a", count: 64))]
        ]),
        field: "spec.artifact.source.oci.reference", value: nil),
    Invalid(
        name: "OCIOCIPrefix", spec: sourced(["oci": ["reference": "oci://registry.internal/models:v1"]]),
        field: "spec.artifact.source.oci.reference", value: "oci://registry.internal/models:v1"),
    Invalid(
        name: "OCIPullSecretName",
        spec: sourced(["oci": ["reference": "registry.internal/models:v1", "pullSecretRef": ["name": "Pull"]]]),
        field: "spec.artifact.source.oci.pullSecretRef.name", value: "Pull"),
    Invalid(
        name: "VolumeClaimName", spec: sourced(["volume": ["claimName": "Weights"]]),
        field: "spec.artifact.source.volume.claimName", value: "Weights"),
    Invalid(
        name: "VolumeSubPathAbsolute", spec: sourced(["volume": ["claimName": "weights", "subPath": "/etc"]]),
        field: "spec.artifact.source.volume.subPath", value: "/etc"),
    Invalid(
        name: "VolumeSubPathDotDot", spec: sourced(["volume": ["claimName": "weights", "subPath": "a/../../b"]]),
        field: "spec.artifact.source.volume.subPath", value: "a/../../b"),
]

@Suite("The four source kinds (sources.md §1)")
struct CacheSourceTests {
    @Test(arguments: invalidSources)
    func rejected(_ c: Invalid) throws {
        let r = Composer().run(Fixtures.request(Fixtures.modelCache(spec: c.spec), clusters: [gpuEast]))
        let fatal = try #require(r.results.first { $0.severity == .fatal })
        #expect(fatal.message.contains(c.field + " "), "\(c.name): \(fatal.message)")
        if let v = c.value { #expect(fatal.message.contains(quote(v)), "\(c.name): \(fatal.message)") }
        #expect(r.desired.resources.isEmpty, "nothing composed from an invalid spec")
    }

    @Test("Each kind parses into its identity and says whether it pins itself")
    func identities() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let cases: [(Value, String, String?)] = [
            (["huggingFace": ["repo": "o/m", "revision": "v1"]], "hf://o/m@v1", nil),
            (["s3": ["uri": "s3://models-bucket/llm/tiny/"]], "s3://models-bucket/llm/tiny", nil),
            (["s3": ["uri": "s3://models-bucket"]], "s3://models-bucket", nil),
            (["s3": ["uri": "s3://models-bucket/"]], "s3://models-bucket", nil),
            (
                ["oci": ["reference": "registry.internal:5000/models/tiny:v1"]],
                "oci://registry.internal:5000/models/tiny:v1", nil
            ),
            (
                ["oci": ["reference": .string("registry.internal/models/tiny@" + digest)]],
                "oci://registry.internal/models/tiny@" + digest, digest
            ),
        ]
        for (source, identity, own) in cases {
            let spec = try ModelCacheSpec.parse(sourced(source)).get()
            #expect(spec.source.identity == identity)
            #expect(spec.source.selfPin == own)
        }
    }

    @Test("Pins and staged identities per kind (common25.md)")
    func pins() {
        let hex40 = String(repeating: "a", count: 40)
        let hex64 = String(repeating: "b", count: 64)
        #expect(SourcePin.isPin(hex40, of: "hf://o/m"))
        #expect(!SourcePin.isPin(hex64, of: "hf://o/m"))
        #expect(SourcePin.isPin(hex64, of: "s3://b/p"))
        #expect(!SourcePin.isPin(hex40, of: "s3://b/p"))
        #expect(SourcePin.isPin("sha256:" + hex64, of: "oci://r/m:v1"))
        #expect(!SourcePin.isPin(hex64, of: "oci://r/m:v1"))
        #expect(SourcePin.isPin("pvc://w/x", of: "pvc://w/x"))
        #expect(!SourcePin.isPin("pvc://w", of: "pvc://w/x"))
        #expect(ResolvedPin.identity(of: "hf://o/m@v1", at: hex40) == "hf://o/m@" + hex40)
        #expect(ResolvedPin.identity(of: "s3://b/p", at: hex64) == "s3://b/p@" + hex64)
        #expect(
            ResolvedPin.identity(of: "oci://r:5000/m/t:v1", at: "sha256:" + hex64) == "oci://r:5000/m/t@sha256:" + hex64
        )
        #expect(
            ResolvedPin.identity(of: "oci://r/m@sha256:" + hex64, at: "sha256:" + hex64) == "oci://r/m@sha256:" + hex64)
        #expect(ResolvedPin.identity(of: "pvc://w/x", at: "pvc://w/x") == "pvc://w/x")
        #expect(ResolvedPin(["source": "s3://b/p", "commit": .string(hex64)])?.commit == hex64)
        #expect(ResolvedPin(["source": "s3://b/p", "commit": .string(hex40)]) == nil)
        #expect(ResolvedPin(["source": "hf://o/m", "commit": .string(hex64)]) == nil)
    }

    @Test("An OCI repository component follows the distribution spec")
    func components() {
        for good in ["a", "a.b", "a_b", "a__b", "a---b", "a0"] { #expect(OCISource.isComponent(good), "\(good)") }
        for bad in ["", "-a", "a-", "a..b", "a___b", "a._b", "A"] { #expect(!OCISource.isComponent(bad), "\(bad)") }
    }
}
