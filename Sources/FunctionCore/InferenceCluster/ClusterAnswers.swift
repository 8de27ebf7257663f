import Synchronization

/// Checks the InferenceClusters Crossplane answered for a requirement, and says
/// what `AnsweredClusters.views` had to leave out or choose.
///
/// The API server never answers a cluster without a valid name, or two with one
/// name; a request built by hand (`render`, tests, another tool) can. Such
/// entries are never composed for: a cluster without a valid name is skipped, of
/// two answers with one name the later is used, and a provider config name that
/// is not a valid object name is ignored. This turns each into a line of one
/// Warning, so the choice is never silent.
public enum ClusterAnswers {
    /// The Warning's reason.
    public static let reason = "InvalidRequiredResource"

    /// One Warning listing every problem in the clusters answered, or nil when
    /// there is none. Requirements a composer already read through `answered`
    /// are not read again.
    public static func warnings(_ request: RunRequest, answered: AnsweredClusters? = nil) -> FunctionResult? {
        var problems: [String] = []
        for key in request.requiredResources.keys.sorted(by: utf8Less) {
            if let known = answered?.known(key) {
                problems += known.problems
            } else {
                problems += self.problems(request.requiredResources[key] ?? [], key: key)
            }
        }
        guard !problems.isEmpty else { return nil }
        let shown = problems.prefix(FieldErrors.listed).joined(separator: "; ")
        let more = problems.count > FieldErrors.listed ? "; and \(problems.count - FieldErrors.listed) more" : ""
        return .warning("Ignored part of the InferenceClusters answered: \(shown)\(more)", reason: reason)
    }

    /// The problems of one requirement's answer, in answer order.
    static func problems(_ items: [Resource], key: String) -> [String] {
        var problems: [String] = []
        // Names in strictly increasing order (how Crossplane lists them) cannot repeat:
        // counting in a dictionary starts only once the order breaks.
        var names: [String] = []
        var sorted = true
        for item in items {
            let object = item.object
            guard object["kind"]?.stringValue == ClusterView.kind else { continue }
            guard let name = object[path: "metadata", "name"]?.stringValue, Rules.isDNSSubdomain(name) else {
                let given = object[path: "metadata", "name"].flatMap { $0.isNull ? nil : $0 }
                let shown = given.map { quote($0.stringValue ?? $0.canonicalJSON()) } ?? "without a name"
                problems.append(
                    "requirement \(quote(key)): an InferenceCluster \(shown) was skipped: "
                        + "its metadata.name is not a valid object name (a DNS-1123 subdomain)")
                continue
            }
            if sorted, let last = names.last, !utf8Less(last, name) { sorted = false }
            names.append(name)
            // An empty or null name means no provider config yet: that is a state, not a problem.
            if let pc = object[path: "status", "providerConfigRef", "name"], !pc.isNull, pc.stringValue != "",
                !(pc.stringValue.map(Rules.isDNSSubdomain) ?? false)
            {
                problems.append(
                    "requirement \(quote(key)): InferenceCluster \(name) status.providerConfigRef.name "
                        + "\(quote(pc.stringValue ?? pc.canonicalJSON())) is not a valid object name: the cluster counts as having no provider config"
                )
            }
        }
        guard !sorted else { return problems }
        var seen: [String: Int] = [:]
        for name in names { seen[name, default: 0] += 1 }
        for (name, count) in seen.sorted(by: { utf8Less($0.key, $1.key) }) where count > 1 {
            problems.append(
                "requirement \(quote(key)): InferenceCluster \(name) was answered \(count) times: the last answer is used"
            )
        }
        return problems
    }
}

/// The clusters answered for each requirement, read once per call: the
/// composer's `ClusterView`s and the problems `ClusterAnswers.warnings` reports
/// come from one reading of each cluster.
public final class AnsweredClusters: Sendable {
    /// One requirement's reading.
    public struct Reading: Sendable {
        /// Sorted by name (UTF-8 order), valid names only, the later of two answers with one name.
        public var views: [ClusterView]
        /// `ClusterAnswers.problems`.
        public var problems: [String]
    }

    private let readings = Mutex<[String: Reading]>([:])

    /// No requirement read yet.
    public init() {}

    /// The clusters answered for `key`, read on first use; nil when `key` is unanswered.
    public func views(_ request: RunRequest, _ key: RequirementKey) -> [ClusterView]? {
        if let known = known(key.rawValue) { return known.views }
        guard let items = request.required(key) else { return nil }
        let reading = Self.read(items, key: key.rawValue)
        readings.withLock { $0[key.rawValue] = reading }
        return reading.views
    }

    /// The reading of `key`, if a composer asked for it.
    func known(_ key: String) -> Reading? {
        readings.withLock { $0[key] }
    }

    /// Reads each answered object once for both the views and the problems.
    static func read(_ items: [Resource], key: String) -> Reading {
        var views: [ClusterView] = []
        views.reserveCapacity(items.count)
        var clean = true
        for item in items {
            let view = ClusterView(item.object)
            if let view { views.append(view) }
            // Only the rare object whose name or provider config is not as expected
            // is read again, for the exact problem (`ClusterAnswers.problems`).
            if view == nil || view?.providerConfig == nil { clean = false }
        }
        let sorted = sortedByUTF8LastWins(views, key: \.name)
        if clean && sorted.count == views.count {
            // Every name valid and distinct, every provider config valid: nothing to report.
            return Reading(views: sorted, problems: [])
        }
        return Reading(views: sorted, problems: ClusterAnswers.problems(items, key: key))
    }
}
