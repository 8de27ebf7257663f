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
