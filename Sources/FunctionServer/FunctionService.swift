import Dispatch
import FunctionCore
import FunctionProto

/// Serves RunFunction: runs the request pipeline (`Pipeline`), writes one
/// JSON log line per call, and answers with the response or INVALID_ARGUMENT.
public final class FunctionService: CallHandler {
    private let pipeline: Pipeline
    private let log: Logger

    /// Creates the service.
    public init(composer: Composer = Composer(), log: Logger) {
        self.pipeline = Pipeline(composer: composer)
        self.log = log
    }

    /// Handles one call (the shim has already bounded how many run at once).
    public func handle(request bytes: UnsafeRawBufferPointer, api: APIVersion, waitedNanoseconds: UInt64) -> CallOutcome
    {
        let call = CallLog(api: api, requestBytes: bytes.count, waitedNanoseconds: waitedNanoseconds)
        switch pipeline.run(bytes) {
        case .rejected(let message):
            log.write(.warn, "Rejected a request", call.rejected(message))
            return .failed(code: GRPCStatus.invalidArgument, message: message)
        case .answered(let answer):
            log.write(answer.response.isFatal ? .warn : .info, "RunFunction", call.answered(answer, debug: log.debug))
            return .ok(answer.encoded)
        }
    }
}
