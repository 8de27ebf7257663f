import Foundation
import FunctionCore
import FunctionProto
import FunctionYAML
import WireTestSupport

/// One fuzz input through every path that takes untrusted bytes: as a
/// serialized RunFunctionRequest (the server's path), and as a YAML/JSON XR
/// composed by the Composer (the render path).
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    checkDecodersAgree(bytes)
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
        let request = RunRequest(
            tag: "fuzz", observed: State(composite: Resource(object: doc)),
            requiredResources: ["clusters": docs.map { Resource(object: $0) }])
        _ = Wire.encodeResponse(Composer().run(request))
    }
}

/// Differential, on the raw bytes. The fast decoder checks objects as they are
/// read, so its verdict on a request is the one it reaches having read all of
/// it (`decodeRequestReadingEverything`): it accepts whatever the up-front
/// checker (`checkingEverything`) accepts, and refuses only what the checker
/// refuses (it may accept an object overwritten before anyone reads it). The
/// checker accepts exactly what swift-protobuf accepts (except nesting, which
/// each bounds differently), and the fast decoder reads it the same, field by
/// field through lookups and as a whole; and so for a non-canonical rewrite of
/// every accepted request. Lookups on a malformed request read what they can
/// and never crash.
func checkDecodersAgree(_ bytes: UnsafeRawBufferPointer) {
    let reference = Result { try Wire.decodeRequestWithSwiftProtobuf(bytes) }
    let checked = Result { try Wire.decodeRequest(bytes, checkingEverything: true) }
    let readAll = Result { try Wire.decodeRequestReadingEverything(bytes) }
    if case .success = checked, case .failure(let error) = readAll {
        preconditionFailure("reading everything lazily refuses what the up-front check accepts: \(error)")
    }
    switch (reference, checked) {
    case (.success(let ref), .success):
        // Compared as canonical bytes: a NaN never equals itself as a value.
        guard let canonical = try? Wire.encodeRequest(ref), let mine = try? Wire.decodeRequest(bytes) else {
            preconditionFailure("the lazy decoder refuses what the up-front check accepts")
        }
        precondition(sameByLookup(mine, ref), "a lookup on the fast decoder's request disagrees with swift-protobuf")
        precondition((try? Wire.encodeRequest(mine)) == canonical, "the fast decoder disagrees with swift-protobuf")
        precondition(RequestPipeline.verdict(on: mine) == nil, "a request swift-protobuf reads was reported malformed")
        let seed = canonical.reduce(UInt64(1_469_598_103_934_665_603)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        guard let variant = NonCanonicalEncoding.variant(of: canonical, seed: seed),
            let again = variant.withUnsafeBytes({ try? Wire.decodeRequestWithSwiftProtobuf($0) }),
            (try? Wire.encodeRequest(again)) == canonical
        else { return }
        let fastAgain = variant.withUnsafeBytes { try? Wire.decodeRequestReadingEverything($0) }
        precondition(
            fastAgain.map { try? Wire.encodeRequest($0) } == canonical,
            "the fast decoder disagrees with swift-protobuf on a non-canonical encoding")
    case (.success, .failure(let error)):
        precondition("\(error)".contains("nest deeper"), "the fast decoder refuses what swift-protobuf reads: \(error)")
    case (.failure(let error), .success):
        precondition(
            "\(error)".contains("messageDepthLimit"), "the fast decoder reads what swift-protobuf refuses: \(error)")
    case (.failure, .failure):
        // Lookups on what the lazy decoder accepted read what they can, without crashing.
        if let lazy = try? Wire.decodeRequest(bytes), let ref = try? reference.get() {
            _ = sameByLookup(lazy, ref)
        } else if let lazy = try? Wire.decodeRequest(bytes) {
            _ = RequestPipeline.respond(to: lazy, composer: Composer())
        }
    }
}

/// Searches worth trying in a list: each string field of its first two objects
/// (a condition's type, a container's name), and one that matches nothing.
func searches(_ list: Value) -> [(field: String, wanted: String)] {
    guard let items = list.listValue else { return [] }
    var out: [(String, String)] = [("type", "\u{0}none")]
    for item in items.prefix(2) {
        guard let fields = item.objectValue else { continue }
        for (i, entry) in fields.enumerated() where i < 3 {
            if let s = entry.value.stringValue { out.append((entry.key, s)) }
        }
    }
    return out
}

/// Whether every object field of `fast` read by key lookups equals `reference`'s.
func sameByLookup(_ fast: RunRequest, _ reference: RunRequest) -> Bool {
    func same(_ a: Value?, _ b: Value?) -> Bool {
        switch b {
        case .object(let fields)?:
            return fields.allSatisfy { same(a?[$0.key], $0.value) } && a?["\u{0}absent"] == nil
                && a?.objectValue?.count == fields.count
                && fields.allSatisfy { key, value in
                    // A list of objects searched in place finds what a search of the decoded list finds.
                    searches(value).allSatisfy { field, wanted in
                        let first = value.listValue?.first { $0[field]?.stringValue == wanted }
                        // The object found, and each of its fields read in place without building it.
                        return same(a?.firstObject(inListAt: key, where: field, is: wanted), first)
                            && (first?.objectValue ?? [:]).allSatisfy { other, expected in
                                same(
                                    a?.value(ofField: other, inFirstObjectInListAt: key, where: field, is: wanted),
                                    expected)
                            }
                    }
                }
        case .list(let items)?:
            guard let mine = a?.listValue, mine.count == items.count else { return false }
            return zip(mine, items).allSatisfy { same($0, $1) }
        case .double(let d)? where d.isNaN:
            if case .double(let e)? = a { return e.isNaN }
            return false
        default:
            return a == b
        }
    }
    func sameState(_ a: State, _ b: State) -> Bool {
        same(a.composite?.object, b.composite?.object) && a.resources.count == b.resources.count
            && b.resources.allSatisfy { same(a.resources[$0.key]?.object, $0.value.object) }
    }
    return sameState(fast.observed, reference.observed) && sameState(fast.desired, reference.desired)
        && same(fast.input, reference.input) && same(fast.context, reference.context)
        && reference.requiredResources.allSatisfy { key, items in
            fast.requiredResources[key].map {
                $0.count == items.count && zip($0, items).allSatisfy { same($0.object, $1.object) }
            } ?? false
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
                let files =
                    isDir.boolValue
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
