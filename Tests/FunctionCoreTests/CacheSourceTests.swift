import Testing

@testable import FunctionCore

/// A spec whose `spec.artifact.source` is `source`.
func sourced(_ source: Value) -> Value { with(Fixtures.defaultSpec, "artifact", ["source": source]) }

extension Invalid {
    /// An `s3` source whose `uri` breaks a rule, named as it was written.
    static func s3URI(_ name: String, _ uri: String) -> Invalid {
        Invalid(
            name: name, spec: sourced(["s3": ["uri": .string(uri)]]), field: "spec.artifact.source.s3.uri", value: uri)
    }

    /// An `oci` source whose `reference` breaks a rule, named as it was written.
    static func ociReference(_ name: String, _ reference: String) -> Invalid {
        Invalid(
            name: name, spec: sourced(["oci": ["reference": .string(reference)]]),
            field: "spec.artifact.source.oci.reference", value: reference)
    }
}

/// A source of another kind than huggingFace, and what its broken rule must name (sources.md §1).
let invalidSources: [Invalid] = [
    Invalid(
        name: "NoKind", spec: sourced([:]), field: "spec.artifact.source", value: nil),
    .s3URI("S3UriNotS3", "https://bucket/x"),
    .s3URI("S3BucketUppercase", "s3://Models/x"),
    .s3URI("S3BucketIP", "s3://10.0.0.1/x"),
    .s3URI("S3BucketShort", "s3://ab"),
    .s3URI("S3PrefixDotDot", "s3://models/a/../b"),
    .s3URI("S3PrefixEmptySegment", "s3://models/a//b"),
    .s3URI("S3OnlySlashes", "s3://models//"),
    .s3URI("S3PrefixShell", "s3://models/$(id)"),
    .s3URI("S3PrefixControl", "s3://models/a\nb"),
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
    .ociReference("OCINoRegistry", "models:v1"),
    .ociReference("OCINoTag", "registry.internal/models/tiny"),
    .ociReference("OCIUppercaseRepository", "registry.internal/Models:v1"),
    .ociReference("OCIShortDigest", "registry.internal/models@sha256:abc"),
    Invalid(
        name: "OCITagAndDigest",
        spec: sourced([
            "oci": ["reference": .string("registry.internal/models:v1@sha256:" + String(repeating: "a", count: 64))]
        ]),
        field: "spec.artifact.source.oci.reference", value: nil),
    .ociReference("OCIOCIPrefix", "oci://registry.internal/models:v1"),
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
