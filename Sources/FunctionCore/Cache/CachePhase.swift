/// The phase of a cache on one cluster (lifecycle.md §2).
public enum CachePhase: String, Sendable, Hashable {
    /// Nothing staged yet, waiting (for the claim, a provider config or a hydration slot).
    case pending = "Pending"
    /// The first revision is downloading.
    case hydrating = "Hydrating"
    /// A new source is downloading while the staged one keeps serving.
    case updating = "Updating"
    /// The source the spec asks for is staged.
    case ready = "Ready"
    /// The desired source failed; an older staged revision, if any, keeps serving.
    case failed = "Failed"
    /// The cluster is no longer selected but replicas there still use the cache: the claim is kept.
    case retained = "Retained"

    /// The phase `name` spells, nil for any other string. A phase is read back for every
    /// cluster of a cache: its length picks the one candidate to compare (a string switch
    /// compares them all).
    static func parse(_ name: String) -> CachePhase? {
        let candidate: CachePhase
        switch name.utf8.count {
        case 5: candidate = .ready
        case 6: candidate = .failed
        case 7: candidate = .pending
        case 9: candidate = .hydrating
        case 8: return name == "Updating" ? .updating : name == "Retained" ? .retained : nil
        default: return nil
        }
        return name == candidate.rawValue ? candidate : nil
    }
}

/// A phase and, when there is something to say, why.
public struct PhaseReport: Sendable, Hashable {
    /// The phase.
    public var phase: CachePhase
    /// Why the cache is in this phase; nil when there is nothing to add.
    public var message: String?

    /// Creates a report.
    public init(_ phase: CachePhase, _ message: String? = nil) {
        self.phase = phase
        self.message = message
    }

    /// The report with `notes` appended to its message.
    func adding(_ notes: [String]) -> PhaseReport {
        guard !notes.isEmpty else { return self }
        return PhaseReport(phase, ([message].compactMap { $0 } + notes).joined(separator: "; "))
    }
}
