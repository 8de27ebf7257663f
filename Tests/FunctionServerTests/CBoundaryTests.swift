import CFunctionShim
import FunctionCore
import FunctionProto
import Glibc
import Synchronization
import Testing

@testable import FunctionServer

/// The Swift half of the C boundary (`runFunctionTrampoline`, which the shim
/// calls for each call it lets through): an outcome becomes a gRPC status, and
/// a response block changes hands without a copy. What the shim does around
/// it (calls whose client left or whose deadline passed while queued never
/// reach the handler) needs a real gRPC client: Tests/e2e covers it.
@Suite("An outcome crosses the C boundary as a gRPC status")
struct CBoundaryTests {
    /// A handler that answers every call with `outcome` and remembers what it was given.
    final class Fixed: CallHandler {
        let outcome: @Sendable () -> CallOutcome
        let seen = Mutex<[(api: APIVersion, request: [UInt8], waited: UInt64)]>([])

        init(_ outcome: @escaping @Sendable () -> CallOutcome) { self.outcome = outcome }

        func handle(request: UnsafeRawBufferPointer, api: APIVersion, waitedNanoseconds: UInt64) -> CallOutcome {
            seen.withLock { $0.append((api, Array(request), waitedNanoseconds)) }
            return outcome()
        }
    }

    /// What the trampoline hands back to the shim.
    struct Handed {
        /// The gRPC status code returned.
        var code: Int32
        /// The response bytes handed over, if any.
        var response: [UInt8]?
        /// Whether an owner block was handed over, and the response starts in it.
        var responseInsideOwner: Bool
        /// The status message handed over, if any.
        var errorMessage: String?
    }

    /// Calls the trampoline as the shim does, and frees what it hands over as the shim does.
    static func trampoline(_ handler: CallHandler, api: fmc_api_version, request: [UInt8], waited: UInt64) -> Handed {
        let box = Unmanaged.passRetained(HandlerBox(handler))
        defer { box.release() }
        var response: UnsafePointer<UInt8>?
        var length = 0
        var owner: UnsafeMutableRawPointer?
        var message: UnsafeMutablePointer<CChar>?
        let code = request.withUnsafeBufferPointer { buffer in
            runFunctionTrampoline(
                context: box.toOpaque(), api: api, request: buffer.baseAddress, requestLength: buffer.count,
                waitedNanoseconds: waited, response: &response, responseLength: &length, responseOwner: &owner,
                errorMessage: &message)
        }
        defer {
            free(owner)
            free(message)
        }
        return Handed(
            code: code, response: response.map { Array(UnsafeBufferPointer(start: $0, count: length)) },
            responseInsideOwner: owner.map { owner in response.map { UnsafeRawPointer($0) >= owner } ?? false }
                ?? false,
            errorMessage: message.map { String(cString: $0) })
    }

    @Test("An answer is status OK, its bytes handed over in the block the shim frees")
    func answered() {
        let handler = Fixed { .ok(Wire.encodeResponseMessage(RunResponse(to: RunRequest(tag: "t")))) }
        let handed = Self.trampoline(handler, api: FMC_API_V1BETA1, request: [1, 2, 3], waited: 42)
        #expect(handed.code == 0)
        #expect(handed.response == Wire.encodeResponse(RunResponse(to: RunRequest(tag: "t"))))
        #expect(handed.responseInsideOwner && handed.errorMessage == nil)
        let seen = handler.seen.withLock { $0 }
        #expect(seen.count == 1)
        #expect(seen.first?.api == .v1beta1 && seen.first?.request == [1, 2, 3] && seen.first?.waited == 42)
    }

    @Test(
        "A failure is its status code and message",
        arguments: [GRPCStatus.invalidArgument, GRPCStatus.deadlineExceeded, GRPCStatus.internal])
    func failed(code: Int32) {
        let handler = Fixed { .failed(code: code, message: "the body is not a RunFunctionRequest: why") }
        let handed = Self.trampoline(handler, api: FMC_API_V1, request: [], waited: 0)
        #expect(handed.code == code && handed.response == nil)
        #expect(handed.errorMessage == "the body is not a RunFunctionRequest: why")
        #expect(handler.seen.withLock { $0.first?.api } == .v1)
    }

    @Test("The status codes are gRPC's")
    func codes() {
        #expect(GRPCStatus.invalidArgument == 3 && GRPCStatus.deadlineExceeded == 4 && GRPCStatus.internal == 13)
    }

    @Test("A call the shim hands over without its out-parameters is INTERNAL, and never reaches the handler")
    func missingPointers() {
        let handler = Fixed { .failed(code: 0, message: "") }
        let box = Unmanaged.passRetained(HandlerBox(handler))
        defer { box.release() }
        let code = runFunctionTrampoline(
            context: box.toOpaque(), api: FMC_API_V1, request: nil, requestLength: 0, waitedNanoseconds: 0,
            response: nil, responseLength: nil, responseOwner: nil, errorMessage: nil)
        #expect(code == GRPCStatus.internal)
        #expect(handler.seen.withLock { $0.isEmpty })
    }
}
