import Foundation
import FunctionCore
import FunctionProto
import Testing

@testable import FunctionServer

/// One JSON line per call, written in one piece: what was called, what came
/// of it, sizes and timings; never object contents, so never a secret.
@Suite("Every call writes one JSON log line, without object contents or secrets")
struct CallLogTests {
    /// The one line a single call wrote (nil, with an issue recorded, otherwise).
    static func onlyLine(_ log: LogCapture) -> [String: Any]? {
        #expect(log.text.hasSuffix("\n"))
        let lines = log.lines
        #expect(lines.count == 1, "\(log.text)")
        guard lines.count == 1, let line = lines[0] else {
            Issue.record("not one JSON line: \(log.text)")
            return nil
        }
        return line
    }

    @Test("An answered call logs RunFunction at info: the XR, the count composed, sizes, wait and duration")
    func answered() throws {
        let log = LogCapture()
        let service = FunctionService(log: log.logger)
        let bytes = try Requests.bytes(Requests.modelCache(tag: "log-me"))
        let outcome = bytes.withUnsafeBytes { service.handle(request: $0, api: .v1beta1, waitedNanoseconds: 2_500_000) }
        let answer = try #require(AnsweringTests.answer(outcome))
        let line = try #require(Self.onlyLine(log))
        #expect(
            Set(line.keys) == [
                "level", "ts", "msg", "api", "tag", "xrKind", "xrName", "xrNamespace", "composed", "fatal",
                "requestBytes", "responseBytes", "durationMs", "waitMs",
            ])
        #expect(line["level"] as? String == "info" && line["msg"] as? String == "RunFunction")
        #expect(line["api"] as? String == "v1beta1" && line["tag"] as? String == "log-me")
        #expect(line["xrKind"] as? String == "ModelCache" && line["xrName"] as? String == "qwen-2-5")
        #expect(line["xrNamespace"] as? String == "ml-team")
        // The claim and the hydration Job's ServiceAccount (the Job waits for it).
        #expect(line["composed"] as? Int == 2 && line["fatal"] as? Bool == false)
        #expect(line["requestBytes"] as? Int == bytes.count && line["responseBytes"] as? Int == answer.count)
        #expect(line["waitMs"] as? Double == 2.5)
        #expect((line["durationMs"] as? Double).map { $0 >= 0 } == true)
        let ts = try #require(line["ts"] as? String)
        #expect(ts.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(ts)")
        #expect(!log.text.contains(Requests.secret) && !log.text.contains(Requests.specValue))
    }

    @Test("With --debug, the line also names the desired resources and the results' messages")
    func debug() throws {
        let log = LogCapture(debug: true)
        let service = FunctionService(log: log.logger)
        let outcome = AnsweringTests.call(service, try Requests.bytes(Requests.modelCache()))
        let response = try Wire.decodeResponse(try #require(AnsweringTests.answer(outcome)))
        let line = try #require(Self.onlyLine(log))
        #expect(line["desired"] as? [String] == response.desired.resources.keys.sorted())
        #expect(line["results"] as? [String] == response.results.map(\.message))
        #expect(!log.text.contains(Requests.secret))
    }

    @Test("A Fatal result is logged at warn, with its message")
    func fatal() throws {
        let log = LogCapture()
        _ = AnsweringTests.call(FunctionService(log: log.logger), try Requests.bytes(Requests.foreignKind()))
        let line = try #require(Self.onlyLine(log))
        #expect(line["level"] as? String == "warn" && line["msg"] as? String == "RunFunction")
        #expect(line["fatal"] as? Bool == true && line["composed"] as? Int == 1)
        #expect((line["fatalMessage"] as? String)?.hasPrefix("Cannot compose example.org/v1 Database") == true)
        #expect(line["xrKind"] as? String == "Database" && line["xrNamespace"] == nil)
    }

    @Test("A refused call logs \"Rejected a request\" at warn, with the message the caller gets")
    func rejected() throws {
        let log = LogCapture()
        let outcome = AnsweringTests.call(FunctionService(log: log.logger), [0xFF, 0xFF, 0xFF, 0xFF])
        let refused = try #require(RefusalTests.refusal(outcome))
        let line = try #require(Self.onlyLine(log))
        #expect(Set(line.keys) == ["level", "ts", "msg", "api", "error", "requestBytes", "durationMs"])
        #expect(line["level"] as? String == "warn" && line["msg"] as? String == "Rejected a request")
        #expect(line["error"] as? String == refused.message && line["requestBytes"] as? Int == 4)
    }
}
