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
