import ArgumentParser
import FunctionCore
import FunctionServer

/// The `function-modelcache` command: `serve` (the default) and `render`.
@main
struct FunctionModelCache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "function-modelcache",
        abstract: "Modelplane's model-weight cache, as a Crossplane composition function.",
        version: FunctionVersion.description,
        subcommands: [Serve.self, Render.self],
        defaultSubcommand: Serve.self
    )
}
