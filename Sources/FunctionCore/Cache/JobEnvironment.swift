/// What the function reads of an observed hydration container's environment,
/// in one pass, under this release's `MODELCACHE_*` names and the previous
/// release's `MODEL_*`/`KEEP_DIRS` names (hydrator.md §2, upgrade): a Job of
/// either release is read the same way. The first entry of a name counts, as
/// Kubernetes' own lookups do.
struct JobEnvironment {
    /// `MODELCACHE_KEEP`, else `KEEP_DIRS`, split on spaces.
    var keep: [String]?
    /// The generation part of `MODELCACHE_EPOCH`, else `MODEL_GENERATION`.
    var generation: Int64?
    /// `MODELCACHE_EPOCH` when well formed (`<generation>.<n>` or `<generation>`).
    var epoch: String?
    /// `MODELCACHE_COMMIT` when it has the shape of a pin (`SourcePin.isAnyPin`).
    var commit: String?
    /// `MODELCACHE_CLAIM_BYTES` when it is a non-negative integer.
    var claimBytes: Int64?
    /// The `HF_TOKEN` entry as it is.
    var token: Value?
    /// Whether it is the previous release's (`MODEL_REPO` without `MODELCACHE_SOURCE`).
    var isLegacy: Bool

    /// Reads the `env` list of an observed container.
    init(_ env: Value?) {
        var source = false
        var legacy = false
        var newKeep: String?
        var oldKeep: String?
        var oldGeneration: String?
        for entry in env?.listValue ?? [] {
            guard let name = entry["name"]?.stringValue else { continue }
            let value = entry["value"]?.stringValue
            switch name {
            case "MODELCACHE_SOURCE": source = true
            case "MODELCACHE_KEEP" where newKeep == nil: newKeep = value ?? ""
            case "MODELCACHE_EPOCH" where epoch == nil: epoch = value.flatMap { Self.epoch($0) == nil ? nil : $0 }
            case "MODELCACHE_COMMIT" where commit == nil: commit = value.flatMap { SourcePin.isAnyPin($0) ? $0 : nil }
            case "MODELCACHE_CLAIM_BYTES" where claimBytes == nil: claimBytes = value.flatMap { Int64($0) }
            case "KEEP_DIRS" where oldKeep == nil: oldKeep = value ?? ""
            case "MODEL_GENERATION" where oldGeneration == nil: oldGeneration = value ?? ""
            case "MODEL_REPO": legacy = true
            case "HF_TOKEN" where token == nil: token = entry
            default: break
            }
        }
        self.isLegacy = legacy && !source
        self.keep = (newKeep ?? oldKeep).map { $0.split(separator: " ").map(String.init) }
        self.generation = epoch.flatMap { Self.epoch($0)?.generation } ?? oldGeneration.flatMap { Int64($0) }
        if let bytes = claimBytes, bytes < 0 { claimBytes = nil }
    }

    /// The two integers of an epoch `<generation>.<n>` (a bare integer is `<generation>.0`); nil when malformed.
    static func epoch(_ s: String) -> (generation: Int64, n: Int64)? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 18 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let g = Int64(parts[0])
        else { return nil }
        return (g, parts.count == 2 ? Int64(parts[1]) ?? 0 : 0)
    }
}
