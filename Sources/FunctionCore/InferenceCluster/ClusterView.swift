/// What the function reads of an observed InferenceCluster.
public struct ClusterView: Sendable, Hashable {
    /// The ReadWriteMany storage a cluster offers for caches.
    public struct RWXCache: Sendable, Hashable {
        /// The StorageClass name.
        public var storageClassName: String
        /// The size of caches that set none, in GiB.
        public var defaultSizeGiB: Int64
    }

    /// The kind's apiVersion and kind.
    public static let kind = "InferenceCluster"

    /// The cluster's name.
    public var name: String
    /// `status.providerConfigRef.name`, when the cluster has one.
    public var providerConfig: String?
    /// `spec.storage.rwxCache`, when declared and valid.
    public var rwxCache: RWXCache?
    /// Why a declared `rwxCache` is unusable, when it is.
    public var rwxProblem: String?
    /// `spec.storage.rwxCache.hydration`: this cluster's own hydration settings
    /// (hydrator.md §5), valid or not; nil when it declares none. Read and
    /// validated when asked, each time: for a cluster that needs a Job or a new
    /// claim, or was not Ready (a Ready cluster reads nothing more), and by the
    /// InferenceCluster's own composer.
    public var hydration: ClusterHydration? {
        guard rwxCache != nil, let block = object[path: "spec", "storage", "rwxCache", "hydration"], !block.isNull
        else { return nil }
        return ClusterHydration(block, cluster: name)
    }
    /// Whether the cluster reports `Ready=True` (read when asked: only placement asks).
    public var isReady: Bool { conditionStatus(object, "Ready") == "True" }
    /// The observed object, for what is read only when asked.
    private let object: Value

    /// Reads an observed InferenceCluster; nil when its name is missing or not a
    /// valid object name (nothing may be composed under such a name;
    /// `ClusterAnswers` reports it). A provider config name that is not a valid
    /// object name is ignored, as if the cluster had none yet.
    public init?(_ object: Value) {
        guard let name = object[path: "metadata", "name"]?.stringValue, Rules.isDNSSubdomain(name) else { return nil }
        self.name = name
        let pc = object[path: "status", "providerConfigRef", "name"]?.stringValue
        self.providerConfig = pc.flatMap { Rules.isDNSSubdomain($0) ? $0 : nil }
        self.object = object
        self.rwxCache = nil
        self.rwxProblem = nil
        if let rwx = object[path: "spec", "storage", "rwxCache"], !rwx.isNull {
            var v = Validator()
            // Field names are built only for an error message.
            func field(_ suffix: String = "") -> String { "InferenceCluster \(name) spec.storage.rwxCache" + suffix }
            if v.object(rwx, field()) != nil {
                let sc = v.string(rwx["storageClassName"], field(".storageClassName"))
                if let sc, !Rules.isDNSSubdomain(sc) {
                    v.fail(field(".storageClassName"), .string(sc), "is not a valid StorageClass name")
                }
                let size = v.integer(rwx["defaultSizeGiB"], field(".defaultSizeGiB"), in: 1...10_000)
                if v.errors.isEmpty, let sc {
                    self.rwxCache = RWXCache(storageClassName: sc, defaultSizeGiB: size ?? 200)
                }
            }
            if !v.errors.isEmpty { self.rwxProblem = FieldErrors(v.errors).description }
        }
    }

    /// Equal when everything read from the clusters is equal.
    public static func == (a: ClusterView, b: ClusterView) -> Bool {
        a.name == b.name && a.providerConfig == b.providerConfig && a.rwxCache == b.rwxCache
            && a.rwxProblem == b.rwxProblem && a.isReady == b.isReady
    }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(providerConfig)
        hasher.combine(rwxCache)
        hasher.combine(rwxProblem)
        hasher.combine(isReady)
    }
}
