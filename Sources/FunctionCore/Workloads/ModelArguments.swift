/// An engine's argument list, read and edited as vLLM-style flags
/// (`--flag=value` or `--flag value`).
struct ModelArguments {
    private(set) var items: [String]

    init(_ items: [String]) { self.items = items }

    /// The `--model` value, if any.
    var model: String? { value(of: "--model") }

    /// The value of `flag`, written as `flag=value` or `flag value`.
    func value(of flag: String) -> String? {
        for (i, a) in items.enumerated() {
            if a.hasPrefix(flag + "=") { return String(a.dropFirst(flag.count + 1)) }
            if a == flag, i + 1 < items.count { return items[i + 1] }
        }
        return nil
    }

    /// Whether `flag` is present in either form.
    func has(_ flag: String) -> Bool {
        items.contains { $0 == flag || $0.hasPrefix(flag + "=") }
    }

    /// Replaces every `--model` value with `path`, in place, normalised to `--model=path`.
    mutating func replaceModel(with path: String) {
        var out: [String] = []
        var i = 0
        while i < items.count {
            let a = items[i]
            if a.hasPrefix("--model=") {
                out.append("--model=\(path)")
            } else if a == "--model" {
                out.append("--model=\(path)")
                i += 1
            } else {
                out.append(a)
            }
            i += 1
        }
        items = out
    }

    mutating func append(_ arg: String) { items.append(arg) }
}
