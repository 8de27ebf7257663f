/// The storage class, size and namespace a cluster's claim gets: what is asked
/// for now, except what Kubernetes will not change on an existing claim
/// (lifecycle.md §4, hydrator.md §5).
public struct ClaimSizing: Sendable, Hashable {
    /// The storage class to send.
    public var storageClass: String
    /// The size to send, e.g. `300Gi`.
    public var size: String
    /// The size in GiB.
    public var sizeGiB: Int64
    /// What was refused and why, one sentence each, naming the cluster.
    public var notes: [String]

    /// Where a claim may go outside the function input's namespace (hydrator.md §5): the wanted
    /// namespace (nil: the function input's, `input`) and the one the existing claim is in (`kept`,
    /// nil without one). A class: nil, one word, in the usual case (no cluster namespace anywhere),
    /// and the claim's sizing stays as small to copy as before.
    public final class Placement: Sendable {
        /// The namespace a new claim goes to; nil: `input`.
        let wanted: String?
        /// The function input's remote namespace.
        let input: String
        /// The namespace the existing claim is in; nil without one.
        let kept: String?
        /// Whether `wanted` is the cluster's own (`spec.storage.rwxCache.hydration.namespace`), not the
        /// function input's: the field a note names.
        let wantedByCluster: Bool
        /// The remote namespace of the claim, and of everything that goes with it (its hydration
        /// Jobs, report objects and token copy, and the workloads that mount it), when it is not the
        /// function input's (a cluster's own, or the one an existing claim keeps); nil when it is.
        public let namespace: String?

        /// A placement wanting `wanted` (the cluster's own namespace when `byCluster`) in a function
        /// input's namespace `input`, the claim in `kept`; nil when there is nothing to say: nothing
        /// but `input` wanted, and no claim elsewhere.
        public static func of(wanted: String?, input: String, kept: String?, byCluster: Bool = false) -> Placement? {
            guard (wanted != nil && wanted != input) || (kept != nil && kept != input) else { return nil }
            return Placement(wanted: wanted, input: input, kept: kept, byCluster: byCluster)
        }

        /// A placement wanting `wanted` (the cluster's own when `byCluster`) in a function input's
        /// namespace `input`, the claim in `kept`.
        init(wanted: String?, input: String, kept: String?, byCluster: Bool = false) {
            self.wanted = wanted
            self.input = input
            self.kept = kept
            self.wantedByCluster = byCluster && wanted != nil
            let want = wanted ?? input
            if let kept, kept != want {
                self.namespace = kept == input ? nil : kept
            } else {
                self.namespace = want == input ? nil : want
            }
        }
    }

    /// Decides the claim on `cluster` from the wanted class and size and the
    /// observed claim Object (what was sent last time): a larger size expands
    /// the claim, a smaller one keeps the current size, and a changed class keeps
    /// the current class (it applies to claims created later). Where the claim
    /// goes is `place(_:cluster:claimName:)`'s (the usual claim is where it was).
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
        let current = sent?[path: "resources", "requests", "storage"]?.stringValue
        // The steady state: the claim already has the size asked for, written as this function
        // writes it (`<n>Gi`): its string is the size, not built and not parsed again.
        if let current, Self.canonicalGibibytes(current) == sizeGiB {
            self.size = current
            self.notes = notes
            return
        }
        self.size = String(sizeGiB) + "Gi"
        if let current, let currentGiB = Self.gibibytes(current), currentGiB > sizeGiB {
            self.sizeGiB = currentGiB
            self.size = current
            notes.append("Claim \(claimName) on \(cluster) keeps \(current): a claim cannot shrink to \(sizeGiB)Gi")
        }
        self.notes = notes
    }

    /// Notes where the claim on `cluster` goes (`placement`, hydrator.md §5): an existing claim stays in
    /// its namespace when another is wanted now, and says so (the new one applies to claims created later).
    public mutating func place(_ placement: Placement, cluster: String, claimName: String) {
        let wanted = placement.wanted ?? placement.input
        if let kept = placement.kept, kept != wanted {
            let field =
                placement.wantedByCluster
                ? "its spec.storage.rwxCache.hydration.namespace" : "input.hydration.namespace"
            notes.append(Self.keptNamespace(claimName, cluster: cluster, current: kept, wanted: wanted, field: field))
        }
    }

    /// The note of a claim that stays in namespace `current` (with its Jobs and the workloads that
    /// mount it) while `field` asks for `wanted` now. Short: it ends a status message (300 characters).
    static func keptNamespace(
        _ claimName: String, cluster: String, current: String, wanted: String, field: String
    ) -> String {
        "Claim \(claimName) on \(cluster) stays in namespace \(current): a claim cannot move; \(field) "
            + "\"\(wanted)\" applies to caches and replicas created later"
    }

    /// The phase the provider reports for an observed claim Object (`Pending`, `Bound`, `Lost`);
    /// nil while it reports none: the claim is not there, or not seen yet.
    static func phase(of observed: Resource?) -> String? {
        observed?.object[path: "status", "atProvider", "manifest", "status", "phase"]?.stringValue
    }

    /// The namespace an observed claim Object was sent to, when it is a valid one: the evidence
    /// (a lookup that costs a Ready cluster as much again as its claim's class and size).
    static func namespace(of observed: Resource?) -> String? {
        let namespace = observed?.object[path: "spec", "forProvider", "manifest", "metadata", "namespace"]?.stringValue
        return namespace.flatMap { Rules.isDNSLabel($0) ? $0 : nil }
    }

    /// `<n>Gi` as `String(n) + "Gi"` writes it (digits only, no leading zero, at most 18 of them) in
    /// GiB; nil for any other form, which `gibibytes` reads.
    static func canonicalGibibytes(_ quantity: String) -> Int64? {
        var digits = quantity.utf8.makeIterator()
        var n: Int64 = 0
        var count = 0
        while let b = digits.next() {
            if b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                // At most 18 digits (no overflow), and no leading zero.
                guard count < 18, count != 1 || n != 0 else { return nil }
                n = n * 10 + Int64(b &- UInt8(ascii: "0"))
                count += 1
                continue
            }
            guard count > 0, b == UInt8(ascii: "G"), digits.next() == UInt8(ascii: "i"), digits.next() == nil else {
                return nil
            }
            return n
        }
        return nil
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
