import FunctionCore
import FunctionProto
import Testing

@testable import FunctionServer

/// A body that is not a RunFunctionRequest gets INVALID_ARGUMENT and the
/// decoder's message, whether it is found malformed up front or only while
/// composing (the fast decoder checks objects as they are read).
@Suite("A malformed request is refused with INVALID_ARGUMENT")
struct RefusalTests {
    /// The status and message of a refused call (nil, with an issue recorded, when it was answered).
    static func refusal(_ outcome: CallOutcome) -> (code: Int32, message: String)? {
        switch outcome {
        case .failed(let code, let message): return (code, message)
        case .ok:
            Issue.record("a malformed request was answered")
            return nil
        }
    }

    @Test("Bytes that are not a RunFunctionRequest are refused before anything is composed")
    func garbage() throws {
        let composed = ComposeCounter()
        let service = FunctionService(composer: composed.composer, log: LogCapture.discarding)
        let good = try Requests.bytes(Requests.modelCache())
        #expect(AnsweringTests.answer(AnsweringTests.call(service, good)) != nil)
        #expect(composed.count == 1)
        for bad in [[0xFF, 0xFF, 0xFF, 0xFF], Array(good.dropLast())] {
            let refused = try #require(Self.refusal(AnsweringTests.call(service, bad)))
            #expect(refused.code == GRPCStatus.invalidArgument)
            #expect(refused.message.hasPrefix("the body is not a RunFunctionRequest: "), "\(refused.message)")
        }
        #expect(composed.count == 1, "nothing more was composed")
    }

    @Test("A part found malformed only while composing is refused the same way, with what was wrong")
    func foundWhileComposing() throws {
        let good = try Requests.bytes(Requests.modelCache())
        // The repository is read by the ModelCache composer, not by the decoder.
        let bad = try #require(Requests.corrupting(Requests.specValue, in: good))
        let lazily = try bad.withUnsafeBytes { try Wire.decodeRequest($0) }
        try #require(RequestPipeline.verdict(on: lazily) == nil, "the decoder must not have read it yet")

        let service = FunctionService(log: LogCapture.discarding)
        let refused = try #require(Self.refusal(AnsweringTests.call(service, bad)))
        #expect(refused.code == GRPCStatus.invalidArgument)
        #expect(refused.message.hasPrefix("the body is not a RunFunctionRequest: "), "\(refused.message)")
        #expect(refused.message.contains("not valid UTF-8"), "\(refused.message)")
        // The well-formed request is still answered.
        #expect(AnsweringTests.answer(AnsweringTests.call(service, good)) != nil)
    }
}
