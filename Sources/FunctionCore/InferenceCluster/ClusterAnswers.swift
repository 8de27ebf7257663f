/// Checks the InferenceClusters Crossplane answered for a requirement, and says
/// what `ClusterView.answered` had to leave out or choose.
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

    /// One Warning listing every problem in the clusters answered, or nil when there is none.
    public static func warnings(_ request: RunRequest) -> FunctionResult? {
        var problems: [String] = []
        for key in request.requiredResources.keys.sorted(by: utf8Less) {
            problems += self.problems(request.requiredResources[key] ?? [], key: key)
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
