/// An engine's argument list, read and edited as vLLM-style flags
/// (`--flag=value` or `--flag value`).
struct ModelArguments {
    /// The arguments, in order.
    private(set) var items: [String]

    /// Reads an argument list.
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
                out.append("--model=\(Self.literal(path))")
            } else if a == "--model" {
                out.append("--model=\(Self.literal(path))")
                i += 1
            } else {
                out.append(a)
            }
            i += 1
        }
        items = out
    }

    /// Appends one argument.
    mutating func append(_ arg: String) { items.append(arg) }

    /// Points the engine at a mounted cache: with the automatic cache `--model` is
    /// replaced by its path (and a serving engine keeps answering to the HuggingFace
    /// id); otherwise a serving engine without its own command and without `--model`
    /// gets `--model=<path>`. Answers a `--model` that points elsewhere, if any.
    mutating func point(at mount: WorkloadBuilder.Mount, serving: Bool, ownCommand: Bool) -> String? {
        if let id = mount.automaticModelID {
            replaceModel(with: mount.path)
            if serving && !has("--served-model-name") { append("--served-model-name=\(Self.literal(id))") }
            return nil
        }
        if let model {
            return model == mount.path ? nil : model
        }
        if serving && !ownCommand { append("--model=\(Self.literal(mount.path))") }
        return nil
    }

    /// Adds the gang's parallelism, each flag only when absent (in either spelling).
    mutating func addParallelism(tensor: Int64, pipeline: Int64) {
        if !has("--tensor-parallel-size") && !has("-tp") { append("--tensor-parallel-size=\(tensor)") }
        if !has("--pipeline-parallel-size") && !has("-pp") { append("--pipeline-parallel-size=\(pipeline)") }
    }

    /// Hands the weights to `loader` (sources.md §2): adds its arguments to an
    /// engine the function treats as vLLM (no own command) that chose no loader
    /// itself (no `--load-format` and no `--model-loader-extra-config`: then the
    /// user's choice wins and nothing is added). Answers what became of the loader.
    mutating func hand(to loader: LoaderSpec, tensor: Int64, ownCommand: Bool) -> LoaderUse {
        if ownCommand { return .notVLLM }
        for flag in LoaderUse.ownFlags where has(flag) {
            return .engineOwn(flag: flag, value: value(of: flag))
        }
        items += loader.arguments(tensor: tensor)
        return .applied
    }

    /// `value` written so that Kubernetes expands nothing in it when it stands in
    /// `command` or `args` (lifecycle.md §7 rule 9): every `$` doubled, since
    /// Kubernetes turns `$$` into `$` and would otherwise replace `$(VAR)` with a
    /// variable of the container (a consumer's secret, say).
    static func literal(_ value: String) -> String {
        guard value.utf8.contains(UInt8(ascii: "$")) else { return value }
        var out = ""
        for ch in value {
            if ch == "$" { out += "$$" } else { out.append(ch) }
        }
        return out
    }
}
