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
    public init(
        type: String, status: ConditionStatus, reason: String, message: String? = nil,
        target: Target? = .composite
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.target = target
    }
}
