import Foundation
import FunctionCore
import FunctionYAML
import SwiftProtobuf
import Testing

@testable import FunctionProto

/// Every input under fuzz/regressions (crashes the fuzzer found, once fixed,
/// and hand-made hostile inputs) goes through the server's path without a crash,
/// and gives a deterministic answer.
@Suite struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/regressions")

    static func inputs() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }
            .sorted()
    }

    @Test("There are regression inputs") func present() { #expect(Self.inputs().count >= 3) }

    @Test(arguments: inputs())
    func replay(_ name: String) throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent(name))
        let first = data.withUnsafeBytes { Pipeline.run($0) }
        let second = data.withUnsafeBytes { Pipeline.run($0) }
        #expect(first == second)
        try Self.decodersAgree(data)
        // The render path: the same bytes as a YAML stream of XRs.
        if let text = String(data: data, encoding: .utf8), let docs = try? YAML.parseStream(text) {
            for doc in docs.prefix(4) {
                _ = Composer().run(RunRequest(observed: State(composite: Resource(object: doc))))
            }
        }
    }

    /// Whatever swift-protobuf accepts, re-encoded well-formed, the fast decoder
    /// decodes to the same request. (On corrupt bytes decoders legitimately differ:
    /// swift-protobuf, upb and the fast decoder each resolve some cases differently.)
    /// And on any bytes, the lazy decoder having read everything accepts what
    /// the up-front checker accepts, with the same values.
    static func decodersAgree(_ data: Data, mustDecode: Bool = false) throws {
        let checked = data.withUnsafeBytes { try? Wire.decodeRequest($0, checkingEverything: true) }
        let readAll = data.withUnsafeBytes { try? Wire.decodeRequestReadingEverything($0) }
        if let checked {
            // Compared as bytes: a NaN never equals itself as a value.
            #expect(
                try readAll.map(Wire.encodeRequest) == Wire.encodeRequest(checked),
                "the lazy decoder refuses or misreads what the checker accepts")
        }
        let reference = data.withUnsafeBytes { try? Wire.decodeRequestWithSwiftProtobuf($0) }
        if mustDecode { #expect(reference != nil && data.withUnsafeBytes { try? Wire.decodeRequest($0) } != nil) }
        guard let reference else { return }
        let canonical = try Wire.encodeRequest(reference)
        let fast = try canonical.withUnsafeBytes { try Wire.decodeRequest($0) }
        // Compared as bytes: a NaN in the input never equals itself as a value.
        #expect(try Wire.encodeRequest(fast) == canonical)
    }

    @Test("Both decoders agree on every scenario, fixture and benchmark-shaped request")
    func differential() throws {
        var r = RunRequest(
            tag: "t", capabilities: [.capabilities, .requiredResources, .unknown(42)],
            observed: State(
                composite: Resource(object: ["a": [1, 2.5, "x", true, .null, [:], []]]),
                resources: [
                    "k": Resource(object: ["n": ["m": 1]], connectionDetails: ["p": Data([1, 2])], ready: .ready)
                ]),
            desired: State(resources: ["d": Resource(object: [:], ready: .notReady)]),
            input: ["i": 1], context: ["c": ["d": "e"]],
            requiredResources: ["clusters": [Resource(object: ["x": 1]), Resource(object: ["y": 2])], "none": []],
            credentials: ["creds": ["password": Data("s3cret".utf8)]])
        r.observed.composite?.object["big"] = .double(1e300)
        let bytes = try Wire.encodeRequest(r)
        let data = Data(bytes)
        try Self.decodersAgree(data, mustDecode: true)
        #expect(data.withUnsafeBytes { try? Wire.decodeRequest($0) } == r)
        // Truncations of a valid request never crash either decoder.
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            try Self.decodersAgree(Data(bytes[0..<cut]))
        }
    }
}
