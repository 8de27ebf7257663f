// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way, toward the pure core:
//   function-modelcache (CLI) → FunctionServer → CFunctionShim (gRPC C++), FunctionProto → FunctionCore
// Linux only (no `platforms:`): it links Debian's gRPC C++ and libyaml and uses glibc.
let package = Package(
    name: "function-modelcache",
    products: [
        .executable(name: "function-modelcache", targets: ["function-modelcache"])
    ],
    dependencies: [
        // No traits: the default BinaryDelimitedStreams trait imports Foundation, which links ICU (~30 MB).
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // The only code that touches gRPC C++. A C-only header; raw protobuf bytes cross it.
        .target(
            name: "CFunctionShim",
            cxxSettings: [.define("GRPC_NO_BINDER")],
            linkerSettings: [
                .linkedLibrary("grpc++"),
                .linkedLibrary("grpc"),
                .linkedLibrary("gpr"),
                // CompletionQueue (the client side) inlines absl::Mutex.
                .linkedLibrary("absl_synchronization"),
            ]
        ),
        // Debian's libyaml.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // YAML streams to and from the core value type, over libyaml.
        .target(name: "FunctionYAML", dependencies: ["CYAML", "FunctionCore"]),
        // Pure Swift: value type, request/response model, composers. No gRPC, no C, no YAML.
        .target(name: "FunctionCore"),
        // The generated wire types and their conversion to the core model.
        .target(
            name: "FunctionProto",
            dependencies: [
                "FunctionCore",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Generated/README.md"]
        ),
        // crossplane render without Docker: requests, the requirements loop, rendered output.
        .target(name: "FunctionRender", dependencies: ["FunctionCore", "FunctionYAML"]),
        // Adapts the shim's C callback to the core: decode, compose, encode, log.
        .target(name: "FunctionServer", dependencies: ["CFunctionShim", "FunctionProto", "FunctionCore"]),
        .executableTarget(
            name: "function-modelcache",
            dependencies: [
                "FunctionServer", "FunctionProto", "FunctionCore", "FunctionRender", "FunctionYAML",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer target (scripts/fuzz.sh); without -DFUZZING it replays inputs.
        .executableTarget(
            name: "fuzz-runfunction",
            dependencies: ["FunctionProto", "FunctionCore", "FunctionYAML", "WireTestSupport"]
        ),
        // Test support, never shipped: other valid encodings of a request, for the
        // differential checks of the tests and the fuzzer.
        .target(name: "WireTestSupport", path: "Tests/WireTestSupport"),
        // Phase timings for profiling (bench/README.md).
        .executableTarget(name: "bench-core", dependencies: ["FunctionProto", "FunctionCore"]),
        .testTarget(name: "FunctionCoreTests", dependencies: ["FunctionCore"], exclude: ["Golden"]),
        .testTarget(name: "FunctionYAMLTests", dependencies: ["FunctionYAML", "FunctionCore"]),
        .testTarget(name: "FunctionRenderTests", dependencies: ["FunctionRender", "FunctionYAML", "FunctionCore"]),
        .testTarget(
            name: "FunctionServerTests",
            dependencies: [
                "FunctionServer", "FunctionProto", "FunctionCore", "FunctionRender", "FunctionYAML",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        .testTarget(name: "FunctionSequenceTests", dependencies: ["FunctionCore", "FunctionYAML"]),
        .testTarget(
            name: "FunctionProtoTests",
            dependencies: ["FunctionProto", "FunctionCore", "FunctionServer", "FunctionYAML", "WireTestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
