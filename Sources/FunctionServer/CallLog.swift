import Dispatch
import FunctionCore
import FunctionProto

/// The fields of a call's one log line: counts, names and timings, never
/// object contents, so never secret data.
struct CallLog {
    private let api: APIVersion
    private let requestBytes: Int
    private let waitedNanoseconds: UInt64
    private let started = DispatchTime.now().uptimeNanoseconds

    /// Starts timing a call that arrived on `api` with `requestBytes` bytes
    /// after queueing `waitedNanoseconds` for a slot.
    init(api: APIVersion, requestBytes: Int, waitedNanoseconds: UInt64) {
        self.api = api
        self.requestBytes = requestBytes
        self.waitedNanoseconds = waitedNanoseconds
    }

    /// The fields of "Rejected a request": why, and the size and duration.
    func rejected(_ message: String) -> Fields {
        [
            "api": .string(api.rawValue), "error": .string(message),
            "requestBytes": .int(Int64(requestBytes)), "durationMs": .double(Self.round3(elapsedMS())),
        ]
    }

    /// The fields of "RunFunction": the XR, what was composed, sizes and timings
    /// (with `debug`, also the desired resources' names and the results' messages).
    func answered(_ answer: Pipeline.Answer, debug: Bool) -> Fields {
        let response = answer.response
        var fields = Self.summary(request: answer.request, response: response)
        fields["api"] = .string(api.rawValue)
        fields["requestBytes"] = .int(Int64(requestBytes))
        fields["responseBytes"] = .int(Int64(answer.encoded.count))
        fields["durationMs"] = .double(Self.round3(elapsedMS()))
        fields["waitMs"] = .double(Self.round3(Double(waitedNanoseconds) / 1e6))
        if debug {
            fields["desired"] = .list(response.desired.resources.keys.sorted(by: utf8Less).map(Value.string))
            fields["results"] = .list(response.results.map { .string($0.message) })
        }
        return fields
    }

    /// The loggable facts of a request and its response.
    static func summary(request: RunRequest, response: RunResponse) -> Fields {
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
        return f
    }

    private func elapsedMS() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6 }

    private static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}
