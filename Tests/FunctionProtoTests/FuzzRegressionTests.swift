import Foundation
import FunctionCore
import Testing

@testable import FunctionProto

/// Every input under fuzz/regressions (crashes the fuzzer found, once fixed,
/// and hand-made hostile inputs) goes through the server's path without a crash,
/// and gives a deterministic answer.
@Suite struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/regressions")

    static func inputs() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test("There are regression inputs") func present() { #expect(Self.inputs().count >= 3) }

    @Test(arguments: inputs())
    func replay(_ name: String) throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent(name))
        let first = data.withUnsafeBytes { Pipeline.run($0) }
        let second = data.withUnsafeBytes { Pipeline.run($0) }
        #expect(first == second)
    }
}
