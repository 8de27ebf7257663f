import struct FoundationEssentials.Data

/// Readiness of a composed resource, as the function reports it.
public enum Readiness: Sendable, Hashable {
    case unspecified, ready, notReady
}

/// One Kubernetes object with its connection details and readiness.
public struct Resource: Sendable, Hashable {
    /// The object itself (apiVersion, kind, metadata, spec, status).
    public var object: Value
    /// Connection details; secret material, never logged.
    public var connectionDetails: [String: Data]
    /// The readiness the function declares for a composed resource.
    public var ready: Readiness

    /// Creates a resource.
    public init(object: Value, connectionDetails: [String: Data] = [:], ready: Readiness = .unspecified) {
        self.object = object
        self.connectionDetails = connectionDetails
        self.ready = ready
    }
}

/// The XR and its composed resources, keyed by composition resource name.
public struct State: Sendable, Hashable {
    /// The composite resource, if any.
    public var composite: Resource?
    /// Composed resources by name.
    public var resources: [String: Resource]

    /// Creates a state.
    public init(composite: Resource? = nil, resources: [String: Resource] = [:]) {
        self.composite = composite
        self.resources = resources
    }
}

/// Features the calling Crossplane declares it supports.
public enum Capability: Sendable, Hashable {
    case capabilities, requiredResources, credentials, conditions, requiredSchemas
    /// A capability this build does not know, by wire number.
    case unknown(Int)
}

/// Selects resources by name or by labels.
public struct ResourceSelector: Sendable, Hashable {
    /// How the selector matches.
    public enum Match: Sendable, Hashable {
        case name(String)
        case labels([String: String])
    }

    /// The apiVersion of the selected resources.
    public var apiVersion: String
    /// The kind of the selected resources.
    public var kind: String
    /// By name or by labels.
    public var match: Match
    /// The namespace, for namespaced kinds.
    public var namespace: String?

    /// Creates a selector.
    public init(apiVersion: String, kind: String, match: Match, namespace: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.match = match
        self.namespace = namespace
    }
}

/// Resources and schemas the function asks for before it can finish.
public struct Requirements: Sendable, Hashable {
    /// Resource selectors keyed by requirement name.
    public var resources: [String: ResourceSelector]
    /// Schema selectors (apiVersion, kind) keyed by requirement name.
    public var schemas: [String: SchemaSelector]

    /// Creates requirements.
    public init(resources: [String: ResourceSelector] = [:], schemas: [String: SchemaSelector] = [:]) {
        self.resources = resources
        self.schemas = schemas
    }

    /// Whether nothing is asked for.
    public var isEmpty: Bool { resources.isEmpty && schemas.isEmpty }
}

/// Selects the OpenAPI schema of one kind.
public struct SchemaSelector: Sendable, Hashable {
    /// The apiVersion of the kind.
    public var apiVersion: String
    /// The kind.
    public var kind: String

    /// Creates a schema selector.
    public init(apiVersion: String, kind: String) {
        self.apiVersion = apiVersion
        self.kind = kind
    }
}

/// Which objects a result or condition applies to.
public enum Target: Sendable, Hashable {
    case composite, compositeAndClaim
}

/// Severity of a result.
public enum Severity: Sendable, Hashable {
    /// Stops the pipeline: Crossplane applies and deletes nothing.
    case fatal
    /// A Warning event.
    case warning
    /// A Normal event.
    case normal
}

/// An event, or a FATAL stop of the pipeline.
public struct FunctionResult: Sendable, Hashable {
    /// How severe.
    public var severity: Severity
    /// What happened, for people.
    public var message: String
    /// A PascalCase reason.
    public var reason: String?
    /// Which objects the event is recorded on.
    public var target: Target?

    /// Creates a result.
    public init(severity: Severity, message: String, reason: String? = nil, target: Target? = nil) {
        self.severity = severity
        self.message = message
        self.reason = reason
        self.target = target
    }

    /// A FATAL result.
    public static func fatal(_ message: String, reason: String? = nil) -> FunctionResult {
        FunctionResult(severity: .fatal, message: message, reason: reason, target: .composite)
    }

    /// A Normal event.
    public static func normal(_ message: String, reason: String) -> FunctionResult {
        FunctionResult(severity: .normal, message: message, reason: reason, target: .composite)
    }

    /// A Warning event.
    public static func warning(_ message: String, reason: String) -> FunctionResult {
        FunctionResult(severity: .warning, message: message, reason: reason, target: .composite)
    }
}

/// Status of a condition.
public enum ConditionStatus: Sendable, Hashable {
    case unknown, `true`, `false`
}

/// A status condition for the XR.
public struct Condition: Sendable, Hashable {
    /// The condition type, e.g. `ArtifactReady`.
    public var type: String
    /// True, False or Unknown.
    public var status: ConditionStatus
    /// A PascalCase reason.
    public var reason: String
    /// A capitalised message without a final period.
    public var message: String?
    /// Which objects the condition applies to.
    public var target: Target?

    /// Creates a condition.
    public init(type: String, status: ConditionStatus, reason: String, message: String? = nil,
                target: Target? = .composite)
    {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.target = target
    }
}

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
    public init(tag: String = "", capabilities: [Capability] = [], observed: State = State(),
                desired: State = State(), input: Value? = nil, context: Value? = nil,
                requiredResources: [String: [Resource]] = [:], credentials: [String: [String: Data]] = [:])
    {
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
