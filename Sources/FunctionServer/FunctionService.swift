import Dispatch
import FoundationEssentials
import FunctionCore
import FunctionProto

/// Serves RunFunction: decodes the request, runs the Composer, encodes the
/// response and writes one JSON log line per call.
public final class FunctionService: CallHandler {
    private let composer: Composer
    private let log: Logger

    /// Creates the service.
    public init(composer: Composer = Composer(), log: Logger) {
        self.composer = composer
        self.log = log
    }

    /// Handles one call (the shim has already bounded how many run at once).
    public func handle(request bytes: UnsafeRawBufferPointer, api: APIVersion, waitedNanoseconds: UInt64) -> CallOutcome
    {
        let started = DispatchTime.now().uptimeNanoseconds
        let waitedMS = Double(waitedNanoseconds) / 1e6
        func elapsedMS() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6 }

        // Refused as malformed: up front, or (objects are checked as they are read) while composing.
        func reject(_ message: String) -> CallOutcome {
            log.write(
                .warn, "Rejected a request",
                [
                    "api": .string(api.rawValue), "error": .string(message),
                    "requestBytes": .int(Int64(bytes.count)), "durationMs": .double(round3(elapsedMS())),
                ])
            return .failed(code: GRPCStatus.invalidArgument, message: message)
        }

        let request: RunRequest
        do {
            request = try Wire.decodeRequest(bytes)
        } catch {
            return reject("\(error)")
        }

        let response = composer.run(request)
        let encoded = Wire.encodeResponseMessage(response)
        if let malformed = request.decoding?.failure {
            return reject("the body is not a RunFunctionRequest: \(malformed)")
        }

        var fields = CallSummary(request: request, response: response).fields
        fields["api"] = .string(api.rawValue)
        fields["requestBytes"] = .int(Int64(bytes.count))
        fields["responseBytes"] = .int(Int64(encoded.count))
        fields["durationMs"] = .double(round3(elapsedMS()))
        fields["waitMs"] = .double(round3(waitedMS))
        if log.debug {
            fields["desired"] = .list(response.desired.resources.keys.sorted(by: utf8Less).map(Value.string))
            fields["results"] = .list(response.results.map { .string($0.message) })
        }
        log.write(response.isFatal ? .warn : .info, "RunFunction", fields)
        return .ok(encoded)
    }

    private func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}

/// The loggable facts of one call: never object contents, so never secret data.
struct CallSummary {
    var fields: Fields

    init(request: RunRequest, response: RunResponse) {
        let xr = request.observed.composite?.object
        var f: Fields = [
            "tag": .string(request.tag),
            "xrKind": .string(xr?["kind"]?.stringValue ?? ""),
            "xrName": .string(xr?[path: "metadata", "name"]?.stringValue ?? ""),
            "composed": .int(Int64(response.desired.resources.count)),
            "fatal": .bool(response.isFatal),
        ]
        if let ns = xr?[path: "metadata", "namespace"]?.stringValue { f["xrNamespace"] = .string(ns) }
        if let fatal = response.results.first(where: { $0.severity == .fatal }) {
            f["fatalMessage"] = .string(fatal.message)
        }
        self.fields = f
    }
}
