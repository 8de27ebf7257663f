import FunctionCore
import FunctionProto
import Glibc
import Testing

@testable import FunctionServer

/// A real call in-process, through the shim's server and its client (the one
/// `render --target` uses): the Swift layer's lifetimes and statuses, without
/// a release build or Python. The shim's own queueing paths are tested end to
/// end in Tests/e2e.
@Suite("A call through the shim reaches the handler and comes back as it answered")
struct ShimCallTests {
    /// A plaintext server on a free local port, calling `handler`.
    static func serve(_ handler: CallHandler) throws -> (server: GRPCServer, target: String) {
        let server = try GRPCServer(
            address: "127.0.0.1:0", tls: nil, maxReceiveBytes: 4 << 20, maxConcurrentCalls: 2, handler: handler)
        return (server, "127.0.0.1:\(server.port)")
    }

    @Test("The service's answer arrives byte for byte; a refusal arrives as INVALID_ARGUMENT with its message")
    func roundTrip() throws {
        let (server, target) = try Self.serve(FunctionService(log: LogCapture.discarding))
        defer { server.shutdown(grace: 0) }
        let bytes = try Requests.bytes(Requests.modelCache())
        let expected = Wire.encodeResponse(Composer().run(RunRequest(try Requests.modelCache())))
        #expect(try GRPCClient.call(target: target, request: bytes, timeoutSeconds: 30) == expected)
        let error = #expect(throws: ServerError.self) {
            try GRPCClient.call(target: target, request: [0xFF, 0xFF, 0xFF, 0xFF], timeoutSeconds: 30)
        }
        #expect(
            error?.description.hasPrefix(
                "RunFunction on \(target) failed with gRPC status 3: the body is not a RunFunctionRequest: ") == true,
            "\(String(describing: error))")
    }

    @Test(
        "A client that stops waiting gets DEADLINE_EXCEEDED, naming --timeout; the handler finishes and the server serves on"
    )
    func deadline() throws {
        let slow = CBoundaryTests.Fixed {
            usleep(600_000)
            return .ok(Wire.encodeResponseMessage(RunResponse(to: RunRequest(tag: "late"))))
        }
        let (server, target) = try Self.serve(slow)
        defer { server.shutdown(grace: 5) }
        let error = #expect(throws: ServerError.self) {
            try GRPCClient.call(target: target, request: [], timeoutSeconds: 0.2)
        }
        #expect(error?.description.contains("failed with gRPC status 4") == true, "\(String(describing: error))")
        #expect(
            error?.description.hasSuffix("(no answer within the timeout of 0.2 s; raise it with --timeout)") == true,
            "\(String(describing: error))")
        let answer = try GRPCClient.call(target: target, request: [], timeoutSeconds: 30)
        #expect(try Wire.decodeResponse(answer).tag == "late")
        // The first call reached the handler unless the machine was too slow to start it within 0.2 s.
        #expect((1...2).contains(slow.seen.withLock { $0.count }))
    }

    @Test("A server that has gone lets go of its handler")
    func releasesHandler() throws {
        weak var released: CBoundaryTests.Fixed?
        do {
            let handler = CBoundaryTests.Fixed { .failed(code: GRPCStatus.internal, message: "") }
            released = handler
            let (server, _) = try Self.serve(handler)
            server.shutdown(grace: 0)
        }
        #expect(released == nil)
    }
}
