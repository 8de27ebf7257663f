import Foundation
import FunctionCore
import FunctionYAML
import Testing

@testable import FunctionRender

/// A render scenario folder under examples/scenarios.
struct Scenario: CustomTestStringConvertible, Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let folder = root.appendingPathComponent("examples/scenarios")

    let name: String
    var testDescription: String { name }
    var dir: URL { Self.folder.appendingPathComponent(name) }

    static func all() -> [Scenario] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)/xr.yaml").path)
        }
        .sorted().map(Scenario.init)
    }

    func file(_ name: String) -> String? {
        let path = dir.appendingPathComponent(name).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The composition for the XR's kind, from apis/ (or the scenario's own composition.yaml).
    func input() throws -> RenderInput {
        let xr = try RenderFiles.single(at: file("xr.yaml")!, what: "XR")
        let kind = (xr["kind"]?.stringValue ?? "").lowercased()
        let composition =
            file("composition.yaml") ?? Self.root.appendingPathComponent("apis/\(kind)/composition.yaml").path
        return RenderInput(
            xr: xr, composition: try RenderFiles.single(at: composition, what: "Composition"),
            functions: try RenderFiles.documents(at: Self.root.appendingPathComponent("examples/functions.yaml").path),
            observed: try file("observed.yaml").map(RenderFiles.documents(at:)) ?? [],
            required: try file("required.yaml").map(RenderFiles.documents(at:)) ?? [])
    }
}

@Suite struct ScenarioTests {
    @Test("There are scenarios to render")
    func present() { #expect(Scenario.all().count >= 4) }

    @Test(arguments: Scenario.all())
    func render(_ s: Scenario) throws {
        var options = RenderOptions()
        options.includeResults = true
        let composer = Composer()
        let output = try Renderer { composer.run($0) }.render(try s.input(), options: options)
        let record = ProcessInfo.processInfo.environment["RECORD_SCENARIOS"] == "1"
        let xrText = try String(contentsOfFile: s.file("xr.yaml")!, encoding: .utf8)
        if let fatal = output.fatal {
            #expect(xrText.hasPrefix("# expect-invalid"), "\(s.name) failed unexpectedly: \(fatal)")
            if record {
                try (fatal + "\n").write(
                    to: s.dir.appendingPathComponent("expected-error.txt"), atomically: true, encoding: .utf8)
                Issue.record("Recorded \(s.name)/expected-error.txt")
                return
            }
            let expected = try String(contentsOfFile: try #require(s.file("expected-error.txt")), encoding: .utf8)
            #expect(fatal == expected.trimmingCharacters(in: .newlines))
            return
        }
        #expect(!xrText.hasPrefix("# expect-invalid"), "\(s.name) should have been rejected")
        if record {
            try YAML.emit(output.documents).write(
                to: s.dir.appendingPathComponent("expected.yaml"), atomically: true, encoding: .utf8)
            Issue.record("Recorded \(s.name)/expected.yaml (RECORD_SCENARIOS=1 always fails the run)")
            return
        }
        let expected = try RenderFiles.documents(
            at: try #require(s.file("expected.yaml"), "\(s.name) has no expected.yaml"))
        #expect(expected.count == output.documents.count, "\(s.name): document count")
        for (i, (want, got)) in zip(expected, output.documents).enumerated() where want != got {
            Issue.record("\(s.name) document \(i) differs:\nexpected:\n\(YAML.emit(want))\ngot:\n\(YAML.emit(got))")
        }
    }
}
