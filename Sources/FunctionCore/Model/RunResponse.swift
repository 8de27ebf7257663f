/// What the function answers.
public struct RunResponse: Sendable, Hashable {
    /// The request's tag, echoed.
    public var tag: String
    /// How long Crossplane may cache this response, in seconds.
    public var ttlSeconds: Int64?
    /// The desired XR status and composed resources.
    public var desired: State
    /// Events and FATAL results.
    public var results: [FunctionResult]
    /// Pipeline context for later steps.
    public var context: Value?
    /// What the function still needs; nil when it needs nothing.
    public var requirements: Requirements?
    /// Conditions for the XR.
    public var conditions: [Condition]
    /// Output for the caller of an operation; unused by compositions.
    public var output: Value?

    /// A response that starts as a copy of the request's tag, desired state and context.
    public init(to request: RunRequest, ttlSeconds: Int64? = 60) {
        self.tag = request.tag
        self.ttlSeconds = ttlSeconds
        self.desired = request.desired
        self.results = []
        self.context = request.context
        self.requirements = nil
        self.conditions = []
        self.output = nil
    }

    /// Whether any result is FATAL.
    public var isFatal: Bool { results.contains { $0.severity == .fatal } }
}
