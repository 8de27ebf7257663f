import FunctionCore
import FunctionServer
import Glibc
import Testing

@testable import FunctionProto

/// Objects are checked as they are read: malformed bytes in a part that is
/// read refuse the whole request (never partial desired state); a part that is
/// never read is never decoded.
@Suite struct LazyCheckingTests {
    /// The benchmark-shaped request (one claim annotated with a value no composer
    /// reads), and a copy whose first occurrence of `needle` starts with a byte
    /// that makes it invalid UTF-8: `Bound` is a claim's phase, which the
    /// ModelCache composer reads; `zzzzzzzz` is the unread annotation.
    static func corrupted(_ needle: String) throws -> (good: [UInt8], bad: [UInt8]) {
        var request = BenchmarkShape.request(clusters: 3, observed: true)
        request.observed.resources["pvc-ic-1"]?.object["metadata"]?["annotations"] = ["unread": "zzzzzzzz"]
        // An earlier step's desired state, which a well-formed call passes on.
        request.desired.resources["from-an-earlier-step"] = Resource(object: ["kind": "ConfigMap"])
        let good = try Wire.encodeRequest(request)
        let pattern = Array(needle.utf8)
        let at = try #require(
            good.indices.first { i in i + pattern.count <= good.count && Array(good[i..<i + pattern.count]) == pattern }
        )
        var bad = good
        bad[at] = 0xFF
        return (good, bad)
    }

    @Test("A malformed part the composer reads refuses the request, however it is run")
    func readPartRefuses() throws {
        let (good, bad) = try Self.corrupted("Bound")
        // Up front, both the checking decoder and swift-protobuf refuse it.
        #expect(throws: Wire.DecodeError.self) {
            try bad.withUnsafeBytes { try Wire.decodeRequest($0, checkingEverything: true) }
        }
        #expect(throws: Wire.DecodeError.self) {
            try bad.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) }
        }
        // Lazily it decodes, and the read finds it.
        let request = try bad.withUnsafeBytes { try Wire.decodeRequest($0) }
        #expect(request.decoding?.failure == nil)
        let response = RequestPipeline.respond(to: request, composer: Composer())
        let failure = try #require(request.decoding?.failure)
        #expect(failure.contains("not valid UTF-8"), "\(failure)")
        #expect(response.isFatal && response.results.count == 1)
        #expect(response.results.first?.message.hasPrefix("Cannot compose: the request is malformed") == true)
        #expect(
            response.desired.resources.isEmpty && response.desired.composite == nil,
            "nothing composed from a malformed request leaves, not even an earlier step's desired state")
        #expect(bad.withUnsafeBytes { Pipeline.run($0) } == nil)
        #expect(good.withUnsafeBytes { Pipeline.run($0) } != nil)

        // The server answers INVALID_ARGUMENT, as for bytes refused up front.
        let devnull = open("/dev/null", O_WRONLY)
        defer { close(devnull) }
        let service = FunctionService(log: Logger(debug: false, fd: devnull))
        switch bad.withUnsafeBytes({ service.handle(request: $0, api: .v1, waitedNanoseconds: 0) }) {
        case .failed(let code, let message):
            #expect(code == GRPCStatus.invalidArgument)
            #expect(message.hasPrefix("the body is not a RunFunctionRequest:"), "\(message)")
        case .ok: Issue.record("a malformed request was answered")
        }
        if case .failed = good.withUnsafeBytes({ service.handle(request: $0, api: .v1, waitedNanoseconds: 0) }) {
            Issue.record("a well-formed request was refused")
        }
    }

    @Test("A malformed part nobody reads is never decoded: the answer is the well-formed request's")
    func unreadPartIsNotDecoded() throws {
        let (good, bad) = try Self.corrupted("zzzzzzzz")
        #expect(throws: Wire.DecodeError.self) {
            try bad.withUnsafeBytes { try Wire.decodeRequest($0, checkingEverything: true) }
        }
        let answer = try #require(bad.withUnsafeBytes { Pipeline.run($0) })
        #expect(answer == good.withUnsafeBytes { Pipeline.run($0) })
        // Reading everything finds it.
        #expect(throws: Wire.DecodeError.self) {
            try bad.withUnsafeBytes { try Wire.decodeRequestReadingEverything($0) }
        }
    }

    @Test("Every truncation and single-byte corruption: reading everything lazily gives the up-front verdict")
    func verdicts() throws {
        let (good, _) = try Self.corrupted("Bound")
        var mismatches: [String] = []
        for i in stride(from: 0, to: good.count, by: 3) {
            for variant in [
                Array(good[0..<i]),
                {
                    var b = good
                    b[i] ^= 0x80
                    return b
                }(),
            ] {
                let checked = variant.withUnsafeBytes { try? Wire.decodeRequest($0, checkingEverything: true) }
                let readAll = variant.withUnsafeBytes { try? Wire.decodeRequestReadingEverything($0) }
                // Accepted up front: read the same lazily. (Lazily, an object a corruption made
                // a superseded duplicate is never read, so never refused.)
                if let checked, readAll != checked { mismatches.append("byte \(i)") }
                // A composer reading a malformed request never crashes, and never answers with desired state.
                if let lazy = variant.withUnsafeBytes({ try? Wire.decodeRequest($0) }) {
                    let response = RequestPipeline.respond(to: lazy, composer: Composer())
                    if lazy.decoding?.failure != nil, !response.desired.resources.isEmpty {
                        mismatches.append("byte \(i): desired state from a malformed request")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test("A tag written in more bytes than it needs is read as protobuf reads it, by both checkers")
    func longTags() throws {
        // input { fields { key: "a" value { string_value: "b" } } }, the entry's tag as 0x8A 0x00.
        let entry: [UInt8] = [0x0A, 0x01, 0x61, 0x12, 0x03, 0x1A, 0x01, 0x62]
        let good: [UInt8] = [0x22, 0x0B, 0x8A, 0x00, 0x08] + entry
        // The same with the string value's tag as 0x9A 0x00, holding invalid UTF-8.
        let badEntry: [UInt8] = [0x0A, 0x01, 0x61, 0x12, 0x04, 0x9A, 0x00, 0x01, 0xFF]
        let bad: [UInt8] = [0x22, 0x0B, 0x0A, 0x09] + badEntry
        let reference = try good.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) }
        #expect(reference.input == ["a": "b"])
        #expect(try good.withUnsafeBytes { try Wire.decodeRequest($0, checkingEverything: true) }.input == ["a": "b"])
        #expect(try good.withUnsafeBytes { try Wire.decodeRequestReadingEverything($0) }.input == ["a": "b"])
        #expect(throws: (any Error).self) { try bad.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) } }
        #expect(throws: Wire.DecodeError.self) {
            try bad.withUnsafeBytes { try Wire.decodeRequest($0, checkingEverything: true) }
        }
        #expect(throws: Wire.DecodeError.self) {
            try bad.withUnsafeBytes { try Wire.decodeRequestReadingEverything($0) }
        }
    }

    @Test("An object overwritten before it is read is not checked lazily (the one way lazy reading is more lenient)")
    func supersededObjectsAreNotRead() throws {
        // input { fields { key: "a" value { struct_value { fields { key: "k" value { string_value: "\xFF" } } } } }
        //         fields { key: "a" value { string_value: "ok" } } }: the later entry for "a" wins.
        let badInner: [UInt8] = [0x0A, 0x07, 0x0A, 0x01, 0x6B, 0x12, 0x02, 0x1A, 0x01] + [0xFF]
        let first: [UInt8] = [0x0A, 0x01, 0x61, 0x12, 0x0C, 0x2A, 0x0A] + badInner
        let second: [UInt8] = [0x0A, 0x01, 0x61, 0x12, 0x04, 0x1A, 0x02, 0x6F, 0x6B]
        let body: [UInt8] = [0x0A, UInt8(first.count)] + first + [0x0A, UInt8(second.count)] + second
        let bytes: [UInt8] = [0x22, UInt8(body.count)] + body
        #expect(throws: (any Error).self) { try bytes.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) } }
        #expect(throws: Wire.DecodeError.self) {
            try bytes.withUnsafeBytes { try Wire.decodeRequest($0, checkingEverything: true) }
        }
        // What is read is what protobuf's last-entry-wins rule gives; the overwritten bytes are never decoded.
        let lazy = try bytes.withUnsafeBytes { try Wire.decodeRequestReadingEverything($0) }
        #expect(lazy.input == ["a": "ok"])
    }

    /// A request whose `input` is `{"l": [items…]}`, each item's bytes given raw.
    static func listRequest(_ items: [[UInt8]]) -> [UInt8] {
        func ld(_ field: UInt8, _ body: [UInt8]) -> [UInt8] { [field << 3 | 2, UInt8(body.count)] + body }
        let list = items.flatMap { ld(1, $0) }  // ListValue.values
        let entry = ld(1, [0x6C]) + ld(2, ld(6, list))  // key "l", value { list_value }
        return ld(4, ld(1, entry))  // RunFunctionRequest.input { fields { … } }
    }

    /// A list item `{"k": <bytes as a string>}`.
    static func item(_ text: [UInt8]) -> [UInt8] {
        func ld(_ field: UInt8, _ body: [UInt8]) -> [UInt8] { [field << 3 | 2, UInt8(body.count)] + body }
        return ld(5, ld(1, ld(1, [0x6B]) + ld(2, ld(3, text))))
    }

    @Test("A list searched in place compares strings as Swift does, and reads every item a search of the list reads")
    func searchInPlace() throws {
        func search(_ bytes: [UInt8], _ wanted: String) throws -> (found: Value?, reference: Value?, failure: String?) {
            let lazy = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
            let found = lazy.input?.firstObject(inListAt: "l", where: "k", is: wanted)
            let reference = (try? bytes.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) })?.input?["l"]?
                .listValue?.first { $0["k"]?.stringValue == wanted }
            return (found, reference, lazy.decoding?.failure)
        }
        // Canonically equivalent strings are equal strings: e + combining acute is é; the Kelvin sign is K.
        let decomposed = try search(Self.listRequest([Self.item(Array("e\u{301}".utf8))]), "\u{E9}")
        #expect(decomposed.found != nil && decomposed.found == decomposed.reference)
        let kelvin = try search(Self.listRequest([Self.item(Array("\u{212A}".utf8))]), "K")
        #expect(kelvin.found != nil && kelvin.found == kelvin.reference)
        let plain = try search(Self.listRequest([Self.item(Array("a".utf8)), Self.item(Array("b".utf8))]), "b")
        #expect(plain.found == ["k": "b"] && plain.failure == nil)
        // Invalid UTF-8 in an item that does not match, before or after the one found, is still found out.
        for items in [
            [Self.item([0xFF, 0x61]), Self.item(Array("b".utf8))],
            [Self.item(Array("b".utf8)), [0x1A, 0x01, 0xFF]],  // a string item after the match
            [Self.item(Array("b".utf8)), [0x1A, 0x05, 0x61]],  // a truncated item after the match
        ] {
            let malformed = try search(Self.listRequest(items), "b")
            #expect(malformed.reference == nil, "swift-protobuf refuses it")
            #expect(malformed.failure != nil, "the search recorded the malformed item: \(items)")
        }
    }
}
