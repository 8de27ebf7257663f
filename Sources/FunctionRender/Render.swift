import FunctionCore

/// Why rendering stopped.
public struct RenderError: Error, CustomStringConvertible {
    /// A one-line reason.
    public var description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// The inputs of one render, as read from files.
public struct RenderInput {
    /// The composite resource.
    public var xr: Value
    /// The Composition (mode Pipeline).
    public var composition: Value
    /// Function objects (`pkg.crossplane.io` Function).
    public var functions: [Value]
    /// Observed composed resources, each annotated with its composition resource name.
    public var observed: [Value]
    /// Resources that answer requirements.
    public var required: [Value]
    /// Initial pipeline context, if any.
    public var context: Value?

    /// Creates render input.
    public init(
        xr: Value, composition: Value, functions: [Value], observed: [Value] = [], required: [Value] = [],
        context: Value? = nil
    ) {
        self.xr = xr
        self.composition = composition
        self.functions = functions
        self.observed = observed
        self.required = required
        self.context = context
    }
}

/// What to print besides the XR and composed resources.
public struct RenderOptions {
    /// Print results (`-r`).
    public var includeResults = false
    /// Print the full XR, spec and metadata included (`-x`).
    public var includeFullXR = false
    /// Print the final context (`-c`).
    public var includeContext = false
    /// The function this binary is; steps naming it run here.
    public var functionName = "function-modelcache"

    /// The defaults.
    public init() {}
}

/// The output of a render: the YAML documents, and whether a FATAL result stopped it.
public struct RenderOutput {
    /// XR, composed resources (sorted by resource name), then results and context when asked for.
    public var documents: [Value]
    /// The FATAL message, when a step returned one.
    public var fatal: String?
}

/// `crossplane render` without Docker: builds requests as Crossplane does,
/// runs each step of this function through `run`, loops on requirements, and
/// assembles the rendered objects.
public struct Renderer {
    /// Calls one pipeline step: in-process (the Composer) or over gRPC.
    public typealias Step = (RunRequest) throws -> RunResponse

    /// At most this many calls per step while requirements change.
    public static let maxCallsPerStep = 6

    private let run: Step

    /// A renderer calling `run` for each step.
    public init(run: @escaping Step) { self.run = run }

    /// Renders `input`.
    public func render(_ input: RenderInput, options: RenderOptions = RenderOptions()) throws -> RenderOutput {
        guard input.composition["kind"]?.stringValue == "Composition" else {
            throw RenderError(
                "the composition file holds a \(input.composition["kind"]?.stringValue ?? "<no kind>"), not a Composition"
            )
        }
        if let mode = input.composition[path: "spec", "mode"]?.stringValue, mode != "Pipeline" {
            throw RenderError("Composition spec.mode \(quote(mode)) is not supported: only Pipeline")
        }
        guard let steps = input.composition[path: "spec", "pipeline"]?.listValue, !steps.isEmpty else {
            throw RenderError("the Composition has no spec.pipeline steps")
        }
        let functionNames = Set(input.functions.compactMap { $0[path: "metadata", "name"]?.stringValue })
        let observed = try Self.observedState(input)
        var desired = State()
        // Crossplane sends every step a context, empty to begin with.
        var context: Value? = input.context ?? .object([:])
        var results: [(step: String, result: FunctionResult)] = []
        var conditions: [Condition] = []

        for step in steps {
            let stepName = step["step"]?.stringValue ?? "<unnamed>"
            let function = step[path: "functionRef", "name"]?.stringValue ?? ""
            guard functionNames.contains(function) else {
                throw RenderError(
                    "step \(quote(stepName)) uses function \(quote(function)), which the functions file does not define"
                )
            }
            guard function == options.functionName else {
                throw RenderError(
                    "step \(quote(stepName)) uses function \(quote(function)); this render runs only "
                        + "\(options.functionName) in-process (use crossplane render for pipelines with other functions)"
                )
            }
            let response = try runStep(
                stepName, input: step["input"], observed: observed, desired: desired,
                context: context, required: input.required)
            results += response.results.map { (stepName, $0) }
            if let fatal = response.results.first(where: { $0.severity == .fatal }) {
                return RenderOutput(documents: [], fatal: "step \(quote(stepName)): \(fatal.message)")
            }
            desired = response.desired
            context = response.context
            conditions += response.conditions
        }

        var documents = [
            RenderedObjects.xr(input.xr, desired: desired, conditions: conditions, full: options.includeFullXR)
        ]
        for key in desired.resources.keys.sorted(by: utf8Less) {
            documents.append(
                try RenderedObjects.composed(
                    desired.resources[key]!.object, key: key, xr: input.xr,
                    observed: observed.resources[key]?.object))
        }
        if options.includeResults {
            documents += results.map { RenderedObjects.result($0.result, step: $0.step) }
        }
        if options.includeContext, let context {
            documents.append(["apiVersion": "render.crossplane.io/v1beta1", "kind": "Context", "fields": context])
        }
        return RenderOutput(documents: documents, fatal: nil)
    }

    /// One step: call, answer requirements, call again until they settle.
    private func runStep(
        _ name: String, input: Value?, observed: State, desired: State, context: Value?,
        required supplied: [Value]
    ) throws -> RunResponse {
        var answered: [String: [Resource]] = [:]
        var previous: Requirements?
        for _ in 1...Self.maxCallsPerStep {
            let request = RunRequest(
                tag: "",
                capabilities: [.capabilities, .requiredResources, .credentials, .conditions, .requiredSchemas],
                observed: observed, desired: desired, input: input, context: context, requiredResources: answered)
            let response = try run(request)
            if response.isFatal { return response }
            guard let requirements = response.requirements, !requirements.isEmpty, requirements != previous else {
                return response
            }
            previous = requirements
            answered = requirements.resources.mapValues { Self.answer($0, from: supplied) }
        }
        throw RenderError(
            "step \(quote(name)): requirements did not settle after \(Self.maxCallsPerStep) calls "
                + "(the function asked for something different each time)")
    }

    /// The supplied resources a selector matches, sorted by namespace and name;
    /// an unanswerable selector gets an empty answer.
    public static func answer(_ selector: ResourceSelector, from supplied: [Value]) -> [Resource] {
        let matches = supplied.filter { r in
            guard r["apiVersion"]?.stringValue == selector.apiVersion, r["kind"]?.stringValue == selector.kind else {
                return false
            }
            if let ns = selector.namespace, !ns.isEmpty, r[path: "metadata", "namespace"]?.stringValue != ns {
                return false
            }
            switch selector.match {
            case .name(let name): return r[path: "metadata", "name"]?.stringValue == name
            case .labels(let labels):
                let have = r[path: "metadata", "labels"]?.objectValue ?? [:]
                return labels.allSatisfy { have[$0.key]?.stringValue == $0.value }
            }
        }
        func key(_ r: Value) -> String {
            (r[path: "metadata", "namespace"]?.stringValue ?? "") + "/"
                + (r[path: "metadata", "name"]?.stringValue ?? "")
        }
        return matches.sorted { utf8Less(key($0), key($1)) }.map { Resource(object: $0) }
    }

    private static func observedState(_ input: RenderInput) throws -> State {
        var resources: [String: Resource] = [:]
        for object in input.observed {
            guard
                let key = object[path: "metadata", "annotations", "crossplane.io/composition-resource-name"]?
                    .stringValue
            else {
                let what =
                    "\(object["kind"]?.stringValue ?? "object") \(object[path: "metadata", "name"]?.stringValue ?? "")"
                throw RenderError("observed resource \(what) has no crossplane.io/composition-resource-name annotation")
            }
            resources[key] = Resource(object: object)
        }
        return State(composite: Resource(object: input.xr), resources: resources)
    }
}
