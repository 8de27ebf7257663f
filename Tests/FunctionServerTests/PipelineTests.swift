import Foundation
import FunctionCore
import FunctionProto
import FunctionRender
import FunctionYAML
import SwiftProtobuf
import Testing

@testable import FunctionServer

/// The server and `render` run one pipeline: the server's from bytes
/// (decode → compose → encode → verdict), render's from a request built out of
/// YAML (its request-level half, compose → verdict, `RequestPipeline`).
@Suite("The server and render answer a request the same, and refuse a malformed one")
struct PipelineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The render scenarios under examples/scenarios.
    static func scenarios() -> [String] {
        let folder = root.appendingPathComponent("examples/scenarios").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            FileManager.default.fileExists(atPath: "\(folder)/\($0)/xr.yaml")
        }.sorted()
    }

    /// A scenario's render input, read as the scenario tests read it.
    static func input(_ scenario: String) throws -> RenderInput {
        let dir = root.appendingPathComponent("examples/scenarios/\(scenario)").path
        func optional(_ name: String) -> String? {
            FileManager.default.fileExists(atPath: "\(dir)/\(name)") ? "\(dir)/\(name)" : nil
        }
        let xr = try RenderFiles.single(at: "\(dir)/xr.yaml", what: "XR")
        let kind = (xr["kind"]?.stringValue ?? "").lowercased()
        let composition =
            optional("composition.yaml") ?? root.appendingPathComponent("apis/\(kind)/composition.yaml").path
        return RenderInput(
            xr: xr, composition: try RenderFiles.single(at: composition, what: "Composition"),
            functions: try RenderFiles.documents(at: root.appendingPathComponent("examples/functions.yaml").path),
            observed: try optional("observed.yaml").map(RenderFiles.documents(at:)) ?? [],
            required: try optional("required.yaml").map(RenderFiles.documents(at:)) ?? [])
    }

    @Test("There are scenarios") func present() { #expect(Self.scenarios().count >= 4) }

    @Test(
        "Every request a scenario's render makes gets the same response through the server's pipeline",
        arguments: scenarios())
    func sameResponse(_ scenario: String) throws {
        let service = FunctionService(log: LogCapture.discarding)
        let composer = Composer()
        var calls = 0
        let renderer = Renderer { request in
            calls += 1
            let rendered = RequestPipeline.respond(to: request, composer: composer)
            let bytes = try Wire.encodeRequest(request)
            let served = try #require(AnsweringTests.answer(AnsweringTests.call(service, bytes)))
            #expect(served == Wire.encodeResponse(rendered), "\(scenario), call \(calls)")
            #expect(try WireResponse(serializedBytes: served) == WireResponse(rendered), "\(scenario), call \(calls)")
            return rendered
        }
        _ = try renderer.render(try Self.input(scenario))
        #expect(calls >= 1)
    }

    @Test("A request found malformed while composing: the server refuses it, render's half answers only a Fatal result")
    func malformedWhileComposing() throws {
        var request = try Requests.modelCache()
        // An earlier step's desired state, which a well-formed call passes on.
        request.desired.resources["from-an-earlier-step", default: .init()].resource = try Google_Protobuf_Struct(
            jsonString: #"{"kind": "ConfigMap"}"#)
        let bad = try #require(Requests.corrupting(Requests.specValue, in: try Requests.bytes(request)))

        switch bad.withUnsafeBytes({ Pipeline().run($0) }) {
        case .rejected(let message):
            #expect(message.hasPrefix("the body is not a RunFunctionRequest: "), "\(message)")
        case .answered: Issue.record("a malformed request was answered")
        }
        #expect(bad.withUnsafeBytes { Pipeline.run($0) } == nil)

        let lazily = try bad.withUnsafeBytes { try Wire.decodeRequest($0) }
        let response = RequestPipeline.respond(to: lazily, composer: Composer())
        let malformed = try #require(RequestPipeline.verdict(on: lazily))
        #expect(response.results.map(\.severity) == [.fatal])
        #expect(response.results.first?.message == "Cannot compose: the request is malformed: \(malformed)")
        #expect(response.desired == State(), "nothing composed leaves, not even an earlier step's desired state")
    }

    @Test("A well-formed request's answer does not depend on which pipeline entry runs it")
    func entries() throws {
        let bytes = try Requests.bytes(Requests.modelCache())
        let viaStatic = try #require(bytes.withUnsafeBytes { Pipeline.run($0) })
        guard case .answered(let answer) = bytes.withUnsafeBytes({ Pipeline().run($0) }) else {
            Issue.record("refused")
            return
        }
        #expect(Array(answer.encoded.bytes) == viaStatic)
        #expect(answer.response == Composer().run(answer.request))
        #expect(RequestPipeline.verdict(on: answer.request) == nil)
    }
}
