import Foundation
import FunctionCore
import FunctionProto

import FunctionYAML

/// One fuzz input through every path that takes untrusted bytes: as a
/// serialized RunFunctionRequest (the server's path), and as a YAML/JSON XR
/// composed by the Composer (the render path).
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    // Differential: whatever swift-protobuf accepts, re-encoded well-formed, the
    // fast decoder decodes to the same request (compared as bytes: a NaN never
    // equals itself). Corrupt bytes themselves have no single right reading —
    // swift-protobuf, upb and the fast decoder each resolve some differently —
    // so for those the fast decoder only has to answer without crashing (below).
    if let reference = try? Wire.decodeRequestWithSwiftProtobuf(bytes), let canonical = try? Wire.encodeRequest(reference) {
        let fast = canonical.withUnsafeBytes { try? Wire.decodeRequest($0) }
        let tooDeep = fast == nil && (canonical.withUnsafeBytes { bytes -> String in
            do { _ = try Wire.decodeRequest(bytes); return "" } catch { return "\(error)" }
        }).contains("nest deeper")
        if !tooDeep && (fast == nil || (try? Wire.encodeRequest(fast!)) != canonical) {
            FileHandle.standardError.write(Data("fast:\n\(String(describing: fast))\nswift-protobuf:\n\(reference)\n".utf8))
            preconditionFailure("the fast decoder disagrees with swift-protobuf on a well-formed request")
        }
    }
    if let response = Pipeline.run(bytes) {
        // Determinism: the same request must give the same bytes.
        precondition(Pipeline.run(bytes) == response, "non-deterministic response")
        return
    }
    guard let text = String(bytes: bytes, encoding: .utf8), let docs = try? YAML.parseStream(text) else { return }
    for doc in docs.prefix(4) {
        let emitted = YAML.emit(doc)
        // Canonical YAML must read back as the same value (NaN aside: it never equals itself).
        if !emitted.contains(".nan") {
            precondition((try? YAML.parseDocument(emitted)) == doc, "YAML round trip changed the value")
        }
        let request = RunRequest(tag: "fuzz", observed: State(composite: Resource(object: doc)),
                                 requiredResources: ["clusters": docs.map { Resource(object: $0) }])
        _ = Wire.encodeResponse(Composer().run(request))
    }
}

#if FUZZING
/// libFuzzer's entry point (built with `--sanitize fuzzer -Xswiftc -DFUZZING`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
/// Replays inputs (files or folders) through the fuzz path: how crashes found
/// by the fuzzer are reproduced and kept as regressions.
@main
struct Replay {
    static func main() throws {
        var count = 0
        for arg in CommandLine.arguments.dropFirst() {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: arg, isDirectory: &isDir)
            let files = isDir.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: arg).sorted().map { "\(arg)/\($0)" } : [arg]
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                data.withUnsafeBytes { fuzzOne($0) }
                count += 1
            }
        }
        print("replayed \(count) inputs without a crash")
    }
}
#endif
