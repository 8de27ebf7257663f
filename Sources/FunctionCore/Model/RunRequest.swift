import struct FoundationEssentials.Data

/// What Crossplane sends: one call of one pipeline step.
public struct RunRequest: Sendable, Hashable {
    /// An opaque tag to echo.
    public var tag: String
    /// What the caller supports.
    public var capabilities: [Capability]
    /// The observed XR and composed resources.
    public var observed: State
    /// What earlier steps desire.
    public var desired: State
    /// The step's input, if the Composition gives one.
    public var input: Value?
    /// Pipeline context, if any.
    public var context: Value?
    /// Answers to earlier requirements; a present key with no items means "answered: none".
    public var requiredResources: [String: [Resource]]
    /// Credentials given to the step; secret material, never logged.
    public var credentials: [String: [String: Data]]

    /// Creates a request.
    public init(
        tag: String = "", capabilities: [Capability] = [], observed: State = State(),
        desired: State = State(), input: Value? = nil, context: Value? = nil,
        requiredResources: [String: [Resource]] = [:], credentials: [String: [String: Data]] = [:]
    ) {
        self.tag = tag
        self.capabilities = capabilities
        self.observed = observed
        self.desired = desired
        self.input = input
        self.context = context
        self.requiredResources = requiredResources
        self.credentials = credentials
    }
}
