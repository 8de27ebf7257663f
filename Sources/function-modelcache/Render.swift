import ArgumentParser
import FoundationEssentials
import FunctionCore
import FunctionProto
import FunctionRender
import FunctionServer
import FunctionYAML

/// `render`: crossplane render without Docker or a cluster.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a composite resource through this function, like `crossplane render`, without Docker.",
        discussion: """
            Prints a YAML stream: the XR with its desired status and conditions, then the composed \
            resources sorted by composition resource name, then (with -r) the results. A FATAL result \
            exits non-zero with its message on stderr. PATH arguments may be files or folders of YAML files.
            """
    )

    @Argument(help: "The composite resource (XR) YAML file.")
    var compositeResource: String

    @Argument(help: "The Composition YAML file.")
    var composition: String

    @Argument(help: "The Function objects (file or folder).")
    var functions: String

    @Option(name: [.short, .long], help: "Observed composed resources (file or folder).")
    var observedResources: String?

    @Option(
        name: [.customShort("e"), .long], help: "Resources that answer the function's requirements (file or folder).")
    var requiredResources: String?

    @Flag(name: [.customShort("r"), .long], help: "Include function results in the output.")
    var includeFunctionResults = false

    @Flag(name: [.customShort("x"), .long], help: "Include the full XR (spec and metadata) in the output.")
    var includeFullXr = false

    @Flag(name: [.customShort("c"), .long], help: "Include the final pipeline context in the output.")
    var includeContext = false

    @Option(help: "Call a running server at host:port (plaintext) instead of composing in-process.")
    var target: String?

    @Option(help: "Seconds to wait for each call to --target (more than 0, at most 3600).")
    var timeout = 60.0

    func validate() throws {
        guard timeout.isFinite, timeout > 0, timeout <= 3600 else {
            throw ValidationError("--timeout \(timeout) must be a number of seconds greater than 0 and at most 3600")
        }
    }

    func run() throws {
        do {
            let input = RenderInput(
                xr: try RenderFiles.single(at: compositeResource, what: "composite resource"),
                composition: try RenderFiles.single(at: composition, what: "Composition"),
                functions: try RenderFiles.objects(at: functions),
                observed: try observedResources.map(RenderFiles.objects(at:)) ?? [],
                required: try requiredResources.map(RenderFiles.objects(at:)) ?? [])
            var options = RenderOptions()
            options.includeResults = includeFunctionResults
            options.includeFullXR = includeFullXr
            options.includeContext = includeContext

            let renderer: Renderer
            if let target {
                renderer = Renderer { [timeout] request in
                    try Wire.decodeResponse(
                        GRPCClient.call(
                            target: target, request: try Wire.encodeRequest(request), timeoutSeconds: timeout))
                }
            } else {
                let composer = Composer()
                renderer = Renderer { RequestPipeline.respond(to: $0, composer: composer) }
            }
            let output = try renderer.render(input, options: options)
            if let fatal = output.fatal {
                FileHandle.standardError.write(Data("function-modelcache render: \(fatal)\n".utf8))
                throw ExitCode(1)
            }
            FileHandle.standardOutput.write(Data(YAML.emit(output.documents).utf8))
        } catch let error as RenderError {
            FileHandle.standardError.write(Data("function-modelcache render: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as ServerError {
            FileHandle.standardError.write(Data("function-modelcache render: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
