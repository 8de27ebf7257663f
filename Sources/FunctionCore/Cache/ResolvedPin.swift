/// The pin of hydrator.md §2: the one commit every cluster stages for a source,
/// as `status.resolved: {source, commit, refresh, epoch}` carries it (a
/// ModelCache's, and a ModelDeployment's for its automatic caches; a
/// ModelReplica gets a copy in `spec.cachePin`).
public struct ResolvedPin: Sendable, Hashable {
    /// The source identity the commit was resolved for (`hf://<repo>` or `hf://<repo>@<revision>`, or
    /// another kind's identity: sources.md §1).
    public var source: String
    /// The pin: the 40-hex commit, or another kind's pin (`SourcePin.isPin`).
    public var commit: String
    /// The value of `modelplane.ai/refresh-revision` when the pin was set, if any.
    public var refresh: String?
    /// `<n>` of the staging epoch `<generation>.<n>`: how many times the pin changed.
    public var epoch: Int64

    /// Creates a pin.
    public init(source: String, commit: String, refresh: String? = nil, epoch: Int64 = 0) {
        self.source = source
        self.commit = commit
        self.refresh = refresh
        self.epoch = epoch
    }

    /// The largest epoch `<n>`: 18 digits, what the hydrator and `JobEnvironment` accept in `MODELCACHE_EPOCH`.
    public static let maxEpoch: Int64 = 999_999_999_999_999_999

    /// Reads `status.resolved` (or `spec.cachePin`); nil unless it has a source and a commit of its kind's shape.
    /// Strings are echoed (a status is read back from the API server, rule 8); an epoch that is
    /// negative or over `maxEpoch` reads as 0 (counting on from it must not overflow).
    public init?(_ value: Value?) {
        guard let source = value?["source"]?.stringValue, !source.isEmpty,
            let commit = value?["commit"]?.stringValue, SourcePin.isPin(commit, of: source)
        else { return nil }
        let epoch = value?["epoch"]?.intValue ?? 0
        self.init(
            source: echo(source), commit: commit, refresh: value?["refresh"]?.stringValue.map(echo),
            epoch: (0...Self.maxEpoch).contains(epoch) ? epoch : 0)
    }

    /// The epoch after this pin's: one more, never past `maxEpoch`.
    public var nextEpoch: Int64 { epoch < Self.maxEpoch ? epoch + 1 : Self.maxEpoch }

    /// The object as status carries it, keys in order.
    public var value: Value {
        var fields: [Fields.Entry] = [
            Fields.Entry(key: "commit", value: .string(commit)),
            Fields.Entry(key: "epoch", value: .int(epoch)),
        ]
        if let refresh { fields.append(Fields.Entry(key: "refresh", value: .string(refresh))) }
        fields.append(Fields.Entry(key: "source", value: .string(source)))
        return .object(Fields(ordered: fields))
    }

    /// The pinned identity `hf://<repo>@<commit>`: the source with its revision replaced by the commit
    /// (another kind's staged identity: `SourcePin.staged`).
    public var identity: String { Self.identity(of: source, at: commit) }

    /// `source` (`hf://<repo>` or `hf://<repo>@<revision>`) at `commit`: `hf://<repo>@<commit>`;
    /// for the other kinds, their staged identity (`SourcePin.staged`).
    public static func identity(of source: String, at commit: String) -> String {
        SourcePin.staged(source, at: commit)
    }
}

/// Whether `text` is a commit id: exactly 40 lowercase hex digits.
public func isCommit(_ text: String) -> Bool {
    let b = text.utf8
    return b.count == 40
        && b.allSatisfy {
            ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
        }
}
