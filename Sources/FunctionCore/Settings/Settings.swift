/// Settings a Composition may pass in the step's `input`
/// (`modelcache.fn.modelplane.ai/v1alpha1` `Input`); every field has a default.
public struct Settings: Sendable, Hashable {
    /// The input's apiVersion.
    public static let inputAPIVersion = "modelcache.fn.modelplane.ai/v1alpha1"

    /// The image that runs the hydration script (needs `sh` and Python 3 with pip, or `hf`).
    public var hydrationImage = "docker.io/library/python:3.12-slim-bookworm"
    /// The namespace on workload clusters where caches and workloads live.
    public var remoteNamespace = "default"
    /// Seconds a finished hydration Job (and its pod) is kept before Kubernetes removes it.
    public var jobTTLSeconds: Int64 = 300
    /// Retries of a failing hydration pod before the Job is Failed.
    public var jobBackoffLimit: Int64 = 4
    /// Hydration Jobs one ModelCache runs at once; further clusters queue (Pending).
    /// Bounds the response size on big fleets and the load on the artifact source.
    public var maxParallelHydrations = 256
    /// How long Crossplane may cache a response, in seconds.
    public var responseTTLSeconds: Int64 = 60

    /// The defaults.
    public init() {}

    /// Reads the step input; absent means the defaults. Errors name the field.
    public static func parse(_ input: Value?) -> Result<Settings, FieldErrors> {
        var s = Settings()
        guard let input, !input.isNull else { return .success(s) }
        var v = Validator()
        guard v.object(input, "input") != nil else { return .failure(FieldErrors(v.errors)) }
        if let api = input["apiVersion"]?.stringValue, api != inputAPIVersion {
            v.fail("input.apiVersion", .string(api), "must be \(inputAPIVersion)")
        }
        if let image = v.string(input["hydrationImage"], "input.hydrationImage", required: false) {
            if image.isEmpty || image.utf8.contains(where: { $0 <= 0x20 }) {
                v.fail("input.hydrationImage", .string(image), "must be a container image reference without spaces")
            } else {
                s.hydrationImage = image
            }
        }
        if let ns = v.string(input["remoteNamespace"], "input.remoteNamespace", required: false) {
            if Rules.isDNSLabel(ns) {
                s.remoteNamespace = ns
            } else {
                v.fail(
                    "input.remoteNamespace", .string(ns), "must be a DNS-1123 label (lowercase letters, digits, '-')")
            }
        }
        if let ttl = v.integer(input["jobTTLSeconds"], "input.jobTTLSeconds", in: 0...86_400) { s.jobTTLSeconds = ttl }
        if let b = v.integer(input["jobBackoffLimit"], "input.jobBackoffLimit", in: 0...20) { s.jobBackoffLimit = b }
        if let m = v.integer(input["maxParallelHydrations"], "input.maxParallelHydrations", in: 1...1000) {
            s.maxParallelHydrations = Int(m)
        }
        if let t = v.integer(input["responseTTLSeconds"], "input.responseTTLSeconds", in: 1...3600) {
            s.responseTTLSeconds = t
        }
        return v.errors.isEmpty ? .success(s) : .failure(FieldErrors(v.errors))
    }
}

/// One or more field errors, reported together.
public struct FieldErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The errors, in the order found.
    public var errors: [FieldError]

    /// Wraps a list of errors.
    public init(_ errors: [FieldError]) { self.errors = errors }

    /// The most errors a message lists; the rest are counted.
    public static let listed = 10

    /// The errors joined with "; ", at most `listed` of them, so a message stays short.
    public var description: String {
        let shown = errors.prefix(Self.listed).map(\.description).joined(separator: "; ")
        return errors.count > Self.listed ? "\(shown); and \(errors.count - Self.listed) more errors" : shown
    }
}
