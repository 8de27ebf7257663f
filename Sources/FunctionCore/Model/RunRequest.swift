import Synchronization

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
    /// Where a decoder that checks objects only as they are read reports bytes
    /// found malformed after `decode` returned (nil for requests built otherwise).
    /// Not part of the request's value: it never affects equality.
    public var decoding: DecodingReport?

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

    /// Equal content (the `decoding` report is bookkeeping, not content).
    public static func == (a: RunRequest, b: RunRequest) -> Bool {
        a.tag == b.tag && a.capabilities == b.capabilities && a.observed == b.observed && a.desired == b.desired
            && a.input == b.input && a.context == b.context && a.requiredResources == b.requiredResources
            && a.credentials == b.credentials
    }

    /// Hashes the content (see `==`).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(tag)
        hasher.combine(capabilities)
        hasher.combine(observed)
        hasher.combine(desired)
        hasher.combine(input)
        hasher.combine(context)
        hasher.combine(requiredResources)
        hasher.combine(credentials)
    }
}

/// Malformed bytes a lazily checking decoder found while the request was read.
///
/// The fast decoder checks each observed object's bytes only as far as they are
/// read, so a malformed part can surface during composition. The first such
/// problem is recorded here; whoever runs the request must then refuse it (the
/// request pipeline answers the same INVALID_ARGUMENT as for bytes refused up
/// front): a malformed request never produces desired state.
public final class DecodingReport: @unchecked Sendable {
    // Written once under the lock, read after `failed` is seen set.
    private let lock = Mutex<String?>(nil)
    private let failed = Atomic<Bool>(false)

    /// An empty report.
    public init() {}

    /// Records a problem; only the first is kept.
    public func record(_ problem: String) {
        lock.withLock { first in
            if first == nil { first = problem }
        }
        failed.store(true, ordering: .releasing)
    }

    /// The first problem found, or nil.
    public var failure: String? {
        guard failed.load(ordering: .acquiring) else { return nil }
        return lock.withLock { $0 }
    }
}
