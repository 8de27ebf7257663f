import Foundation
import FunctionCore
import FunctionProto
import Synchronization
import Testing

@testable import FunctionServer

/// The shim runs calls on several gRPC threads at once, through one service:
/// each call's answer (and its log line) must be what the call gets alone.
@Suite("Calls running at once are each answered as they are alone")
struct ConcurrentCallsTests {
    /// What a call comes to, comparably.
    static func outcome(_ service: FunctionService, _ bytes: [UInt8]) -> String {
        switch bytes.withUnsafeBytes({ service.handle(request: $0, api: .v1, waitedNanoseconds: 0) }) {
        case .ok(let message): return "ok \(Array(message.bytes).hashValue) \(message.count)"
        case .failed(let code, let message): return "failed \(code) \(message)"
        }
    }

    @Test("Good, lazily malformed and up-front malformed requests from 8 threads at once")
    func mixed() throws {
        let good = try Requests.bytes(Requests.modelCache(clusters: ["gpu-east", "gpu-west", "gpu-north"]))
        // The second cluster's name with invalid UTF-8: found when the composer reads the clusters.
        var lazilyBad = good
        let name = Array("gpu-west".utf8)
        let at = try #require(
            (0...(good.count - name.count)).first { Array(good[$0..<$0 + name.count]) == name })
        lazilyBad[at] = 0xFF
        // Truncated: refused up front.
        let truncated = Array(good.prefix(good.count / 2))
        let inputs = [good, lazilyBad, truncated]
        let service = FunctionService(log: LogCapture.discarding)
        let alone = inputs.map { Self.outcome(service, $0) }
        #expect(alone[0].hasPrefix("ok"))
        #expect(alone[1].hasPrefix("failed 3 the body is not a RunFunctionRequest"), "\(alone[1])")
        #expect(alone[2].hasPrefix("failed 3"), "\(alone[2])")

        let mismatches = Mutex<[String]>([])
        let done = DispatchGroup()
        for t in 0..<8 {
            done.enter()
            Thread {
                for i in 0..<30 {
                    let k = (t + i) % inputs.count
                    let got = Self.outcome(service, inputs[k])
                    if got != alone[k] { mismatches.withLock { $0.append("thread \(t) input \(k): \(got)") } }
                }
                done.leave()
            }.start()
        }
        done.wait()
        #expect(mismatches.withLock { $0 }.isEmpty, "\(mismatches.withLock { $0 }.prefix(5))")
    }
}
