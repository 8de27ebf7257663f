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
