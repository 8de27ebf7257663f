/// The request-level half of the function's one pipeline: compose a request,
/// then the verdict on how it was read. FunctionProto's `Pipeline` runs it
/// between the wire stages (decode → compose → encode → verdict);
/// `render`, which has no bytes, runs it as it is.
///
/// The fast decoder checks each object's bytes only as they are read, so a
/// malformed part can surface while composing or encoding: the first one goes
/// to the request's `decoding` report, and then nothing composed may leave.
/// `verdict(on:)` is the only reader of that report.
public enum RequestPipeline {
    /// The verdict on `request` as read so far: the first malformed part found,
    /// or nil (always nil for a request that was not decoded lazily).
    public static func verdict(on request: RunRequest) -> String? {
        request.decoding?.failure
    }

    /// Composes `request` with `composer`; a request found malformed meanwhile
    /// gets only a Fatal result, whatever else was composed (the answer for a
    /// caller with no gRPC status to refuse it with).
    public static func respond(to request: RunRequest, composer: Composer) -> RunResponse {
        let response = composer.run(request)
        guard let malformed = verdict(on: request) else { return response }
        var refused = RunResponse(to: request)
        // Not even the earlier steps' desired state is passed on: it may be what was malformed.
        refused.desired = State()
        refused.results = [.fatal("Cannot compose: the request is malformed: \(malformed)")]
        return refused
    }
}
