/// A ModelCache's `spec.mount.loader`: how vLLM engines mounting the cache read
/// the weights (sources.md §2). Today one format, the Run:ai Model Streamer,
/// with how many threads read at once.
public struct LoaderSpec: Sendable, Hashable {
    /// The loader formats the function knows.
    public enum Format: String, Sendable, Hashable {
        /// The Run:ai Model Streamer: vLLM's `--load-format runai_streamer`.
        case streamer = "Streamer"
    }

    /// The format.
    public var format: Format
    /// How many threads read tensors at once (the streamer's `concurrency`).
    public var concurrency: Int64

    /// The concurrency when `spec.mount.loader.concurrency` is absent.
    public static let defaultConcurrency: Int64 = 16
    /// The concurrencies accepted.
    public static let concurrencies: ClosedRange<Int64> = 1...64

    /// Parses and validates `spec.mount.loader` (absent: nil); every broken rule is recorded in `v`.
    static func parse(_ loader: Value?, _ v: inout Validator) -> LoaderSpec? {
        let field = "spec.mount.loader"
        guard let loader = v.object(loader, field, required: false) else { return nil }
        let errors = v.errors.count
        var format: Format?
        if let f = v.string(loader["format"], "\(field).format") {
            format = Format(rawValue: f)
            if format == nil { v.fail("\(field).format", .string(f), "is not a supported loader format: use Streamer") }
        }
        let concurrency = v.integer(loader["concurrency"], "\(field).concurrency", in: concurrencies)
        guard let format, v.errors.count == errors else { return nil }
        return LoaderSpec(format: format, concurrency: concurrency ?? defaultConcurrency)
    }

    /// Reads a loader back from an object the function did not validate (an
    /// observed ModelCache's `spec.mount.loader`, a replica's `status.loader`):
    /// nil unless the format is known and the concurrency absent or in range.
    init?(readBack value: Value?) {
        guard let value, let f = value["format"]?.stringValue, let format = Format(rawValue: f) else { return nil }
        let concurrency = value["concurrency"].map { $0.intValue ?? 0 } ?? Self.defaultConcurrency
        guard Self.concurrencies.contains(concurrency) else { return nil }
        self.init(format: format, concurrency: concurrency)
    }

    /// Creates a loader.
    public init(format: Format, concurrency: Int64 = defaultConcurrency) {
        self.format = format
        self.concurrency = concurrency
    }

    /// The engine arguments that hand the weights to this loader: vLLM's
    /// `--load-format` and `--model-loader-extra-config` (a JSON object with the
    /// concurrency and, for an engine whose tensors span several GPUs, `distributed`).
    func arguments(tensor: Int64) -> [String] {
        let distributed = tensor > 1 ? #","distributed":true"# : ""
        return [
            "--load-format=runai_streamer",
            #"--model-loader-extra-config={"concurrency":\#(concurrency)\#(distributed)}"#,
        ]
    }

    /// `{format, concurrency}` as status records it.
    var fields: Fields { ["format": .string(format.rawValue), "concurrency": .int(concurrency)] }

    /// How messages name it: `Streamer (concurrency 16)`.
    var summary: String { "\(format.rawValue) (concurrency \(concurrency))" }
}
