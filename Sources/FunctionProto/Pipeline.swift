import FunctionCore

/// The function's one request pipeline, from request bytes to response bytes:
/// decode → compose → encode → verdict. The server runs it (adding only its
/// log line), and so do the fuzzer and bench-core; `render`, which has no
/// bytes, runs its request-level half (`RequestPipeline`).
public struct Pipeline: Sendable {
    /// The stages, in order (the verdict is not timed: it reads one flag).
    public enum Stage: Sendable {
        /// Bytes to request (`Wire.decodeRequest`).
        case decode
        /// Request to response (`Composer.run`).
        case compose
        /// Response to bytes (`Wire.encodeResponseMessage`).
        case encode
    }

    /// Runs each stage's work, and may time it (bench-core does; `Untimed` does not).
    public protocol StageTimer {
        /// Runs `work`, the work of `stage`, and returns what it returns.
        func time<T>(_ stage: Stage, _ work: () throws -> T) rethrows -> T
    }

    /// Runs each stage without timing it.
    public struct Untimed: StageTimer {
        /// Creates one.
        public init() {}

        /// Runs `work`.
        @inline(__always)
        public func time<T>(_ stage: Stage, _ work: () throws -> T) rethrows -> T { try work() }
    }

    /// What one call comes to.
    public enum Outcome: Sendable {
        /// Composed and encoded.
        case answered(Answer)
        /// Refused as not a RunFunctionRequest (up front, or found malformed
        /// while composing or encoding); the message for the caller.
        case rejected(String)
    }

    /// An answered call: what the server sends, and what it logs.
    public struct Answer: Sendable {
        /// The request as decoded.
        public let request: RunRequest
        /// The composed response.
        public let response: RunResponse
        /// The response's bytes.
        public let encoded: EncodedMessage
    }

    /// The compose stage's composer.
    public let composer: Composer

    /// A pipeline composing with `composer`.
    public init(composer: Composer = Composer()) {
        self.composer = composer
    }

    /// Runs one call.
    package func run(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        run(bytes, timing: Untimed())
    }

    /// Runs one call, each stage's work through `timer`.
    package func run(_ bytes: UnsafeRawBufferPointer, timing timer: some StageTimer) -> Outcome {
        let request: RunRequest
        do {
            request = try timer.time(.decode) { try Self.decode(bytes) }
        } catch {
            return .rejected("\(error)")
        }
        let response = timer.time(.compose) { compose(request) }
        let encoded = timer.time(.encode) { Self.encode(response) }
        // Last: composing and encoding both read the request, and either may find a malformed part.
        if let malformed = RequestPipeline.verdict(on: request) {
            return .rejected("the body is not a RunFunctionRequest: \(malformed)")
        }
        return .answered(Answer(request: request, response: response, encoded: encoded))
    }

    // Each stage a function of its own, never inlined: bench/instructions.sh counts each by its name.

    /// Bytes to request.
    @inline(never)
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> RunRequest {
        try Wire.decodeRequest(bytes)
    }

    /// Request to response.
    @inline(never)
    func compose(_ request: RunRequest) -> RunResponse {
        composer.run(request)
    }

    /// Response to bytes.
    @inline(never)
    static func encode(_ response: RunResponse) -> EncodedMessage {
        Wire.encodeResponseMessage(response)
    }

    /// The response's bytes, or nil when the call is rejected: the fuzzer's
    /// and the regression tests' view of `run`.
    package static func run(_ bytes: UnsafeRawBufferPointer, composer: Composer = Composer()) -> [UInt8]? {
        guard case .answered(let answer) = Pipeline(composer: composer).run(bytes) else { return nil }
        return answer.encoded.array
    }
}
