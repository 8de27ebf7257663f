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
