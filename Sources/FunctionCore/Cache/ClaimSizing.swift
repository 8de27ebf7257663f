/// The storage class and size a cluster's claim gets: what is asked for now,
/// except what Kubernetes will not change on an existing claim (lifecycle.md §4).
public struct ClaimSizing: Sendable, Hashable {
    /// The storage class to send.
    public var storageClass: String
    /// The size to send, e.g. `300Gi`.
    public var size: String
    /// The size in GiB.
    public var sizeGiB: Int64
    /// What was refused and why, one sentence each, naming the cluster.
    public var notes: [String]

    /// Decides the claim on `cluster` from the wanted class and size and the
    /// observed claim Object (what was sent last time): a larger size expands
    /// the claim, a smaller one keeps the current size, and a changed class keeps
    /// the current class (it applies to claims created later).
    public init(cluster: String, claimName: String, storageClass: String, sizeGiB: Int64, observed: Resource?) {
        let sent = observed?.object[path: "spec", "forProvider", "manifest", "spec"]
        var notes: [String] = []
        self.storageClass = storageClass
        if let current = sent?["storageClassName"]?.stringValue, !current.isEmpty, current != storageClass {
            self.storageClass = current
            notes.append(
                "Claim \(claimName) on \(cluster) keeps storage class \(current): a claim's class cannot "
                    + "change; \(storageClass) applies to claims created later")
        }
        self.sizeGiB = sizeGiB
        self.size = String(sizeGiB) + "Gi"
        if let current = sent?[path: "resources", "requests", "storage"]?.stringValue,
            let currentGiB = Self.gibibytes(current), currentGiB > sizeGiB
        {
            self.sizeGiB = currentGiB
            self.size = current
            notes.append("Claim \(claimName) on \(cluster) keeps \(current): a claim cannot shrink to \(sizeGiB)Gi")
        }
        self.notes = notes
    }

    /// `<n>Gi` or `<n>Ti` in GiB; nil for any other form.
    static func gibibytes(_ quantity: String) -> Int64? {
        if quantity.hasSuffix("Gi") { return Int64(quantity.dropLast(2)) }
        if quantity.hasSuffix("Ti") {
            return Int64(quantity.dropLast(2)).flatMap { $0 <= Int64.max / 1024 ? $0 * 1024 : nil }
        }
        return nil
    }
}
