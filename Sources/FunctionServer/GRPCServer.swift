import CFunctionShim
import FoundationEssentials
import FunctionProto
import Glibc

/// Why the server could not start.
public struct ServerError: Error, CustomStringConvertible {
    /// A one-line reason.
    public var description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// Turns one serialized request into a serialized response, or a gRPC error.
public protocol CallHandler: AnyObject, Sendable {
    /// Handles one call; runs concurrently on the shim's worker threads. `waitedNanoseconds`
    /// is how long the call queued for a slot before it got here.
    func handle(request: UnsafeRawBufferPointer, api: APIVersion, waitedNanoseconds: UInt64) -> CallOutcome
}

/// The RunFunction method a call arrived on.
public enum APIVersion: String, Sendable {
    case v1, v1beta1
}

/// The outcome of one call.
public enum CallOutcome {
    /// A serialized response.
    case ok(EncodedMessage)
    /// A gRPC status code and message.
    case failed(code: Int32, message: String)
}

/// gRPC status codes this module returns.
public enum GRPCStatus {
    /// The request body is not valid.
    public static let invalidArgument: Int32 = 3
    /// The call's deadline passed.
    public static let deadlineExceeded: Int32 = 4
    /// An unexpected failure.
    public static let `internal`: Int32 = 13
}

/// A running gRPC server: owns the C shim's server and frees it.
public final class GRPCServer: @unchecked Sendable {
    // The shim pointer is only touched through the shim's thread-safe functions.
    private let server: OpaquePointer
    private let context: Unmanaged<HandlerBox>

    /// The bound TCP port.
    public let port: Int

    /// Starts serving on `address` (`host:port`, see `ListenAddress`); plaintext
    /// when `tls` is nil. At most `maxConcurrentCalls` calls reach `handler` at
    /// once, on as many shim threads; the rest queue, and are answered without
    /// reaching `handler` if their client leaves or their deadline passes.
    public init(
        address: String, tls: TLSMaterial?, maxReceiveBytes: Int, maxConcurrentCalls: Int,
        handler: CallHandler
    ) throws {
        let box = Unmanaged.passRetained(HandlerBox(handler))
        var error = [CChar](repeating: 0, count: 512)
        let started: OpaquePointer? = address.withCString { addr in
            withOptionalCString(tls?.certificate) { cert in
                withOptionalCString(tls?.key) { key in
                    withOptionalCString(tls?.clientCA) { ca in
                        fmc_server_start(
                            addr, cert, key, ca, Int32(clamping: maxReceiveBytes),
                            Int32(clamping: max(1, maxConcurrentCalls)),
                            runFunctionTrampoline, box.toOpaque(), &error, error.count)
                    }
                }
            }
        }
        guard let started else {
            box.release()
            let message = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ServerError(message)
        }
        self.server = started
        self.context = box
        self.port = Int(fmc_server_port(started))
    }

    /// Blocks until the server has shut down.
    public func wait() {
        fmc_server_wait(server)
    }

    /// Stops accepting calls and lets in-flight calls finish within `grace` seconds.
    public func shutdown(grace: Double) {
        fmc_server_shutdown(server, Int64(grace * 1000))
    }

    deinit {
        fmc_server_shutdown(server, 0)
        fmc_server_wait(server)
        fmc_server_free(server)
        context.release()
    }
}

/// Returns freed heap memory to the OS.
public func releaseFreeMemory() {
    fmc_release_free_memory()
}

/// Tunes the allocator for large messages (see the shim); call once at startup.
public func tuneAllocator() {
    fmc_tune_allocator()
}

/// Routes gRPC's own log lines through JSON on stderr.
public func configureGRPCLogging(debug: Bool) {
    fmc_configure_logging(debug ? 1 : 0)
}

/// Holds the Swift handler behind the C context pointer.
final class HandlerBox: Sendable {
    let handler: CallHandler
    init(_ handler: CallHandler) { self.handler = handler }
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}

/// The C callback. A plain global function, so it carries no actor isolation
/// (a closure in main.swift would be @MainActor and trap on a gRPC thread);
/// internal, so that the tests call it as the shim does.
func runFunctionTrampoline(
    context: UnsafeMutableRawPointer?, api: fmc_api_version,
    request: UnsafePointer<UInt8>?, requestLength: Int, waitedNanoseconds: UInt64,
    response: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    responseLength: UnsafeMutablePointer<Int>?,
    responseOwner: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    errorMessage: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guard let context, let response, let responseLength, let responseOwner, let errorMessage else {
        return GRPCStatus.internal
    }
    let box = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue()
    let version: APIVersion = api == FMC_API_V1BETA1 ? .v1beta1 : .v1
    let outcome = box.handler.handle(
        request: UnsafeRawBufferPointer(start: request, count: requestLength), api: version,
        waitedNanoseconds: waitedNanoseconds)
    switch outcome {
    case .ok(let message):
        // No copy: gRPC sends from the encoder's block, and the shim frees it once sent.
        response.pointee = message.bytes.baseAddress
        responseLength.pointee = message.count
        responseOwner.pointee = message.release()
        return 0
    case .failed(let code, let message):
        errorMessage.pointee = strdup(message)
        return code
    }
}

/// Calls RunFunction on a running plaintext server (for `render --target`).
public enum GRPCClient {
    /// Sends serialized request bytes; returns the serialized response or throws the gRPC status.
    public static func call(target: String, request: [UInt8], timeoutSeconds: Double = 60) throws -> [UInt8] {
        var response: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message: UnsafeMutablePointer<CChar>?
        let code = request.withUnsafeBufferPointer { buf in
            fmc_client_call(
                target, buf.baseAddress, buf.count, Int32(timeoutSeconds * 1000), &response, &length, &message)
        }
        defer {
            free(response)
            free(message)
        }
        guard code == 0, let response else {
            var text = message.map { String(cString: $0) } ?? ""
            if code == GRPCStatus.deadlineExceeded {
                text += " (no answer within the timeout of \(timeoutSeconds) s; raise it with --timeout)"
            }
            throw ServerError(
                "RunFunction on \(target) failed with gRPC status \(code)\(text.isEmpty ? "" : ": \(text)")")
        }
        return Array(UnsafeBufferPointer(start: response, count: length))
    }
}
