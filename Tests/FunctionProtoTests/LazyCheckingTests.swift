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
        let response = Composer().run(request)
        let failure = try #require(request.decoding?.failure)
        #expect(failure.contains("not valid UTF-8"), "\(failure)")
        #expect(response.isFatal && response.results.count == 1)
        #expect(response.results.first?.message.hasPrefix("Cannot compose: the request is malformed") == true)
        #expect(response.desired.resources.isEmpty, "nothing composed from a malformed request leaves")
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

    @Test("Every truncation and every single-byte corruption: reading everything lazily gives the up-front verdict")
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
                if (checked == nil) != (readAll == nil) { mismatches.append("byte \(i)") }
                if let checked, let readAll, checked != readAll { mismatches.append("byte \(i): values differ") }
                // A composer reading a malformed request never crashes, and never answers with desired state.
                if let lazy = variant.withUnsafeBytes({ try? Wire.decodeRequest($0) }) {
                    let response = Composer().run(lazy)
                    if lazy.decoding?.failure != nil, !response.desired.resources.isEmpty {
                        mismatches.append("byte \(i): desired state from a malformed request")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
