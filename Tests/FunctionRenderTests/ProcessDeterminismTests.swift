import Foundation
import Testing

/// Output must not depend on anything that changes between processes (Swift
/// seeds its hashing per process, so hash-order dependence shows up only
/// across separate runs of the binary).
@Suite struct ProcessDeterminismTests {
    /// The built `function-modelcache` beside the test bundle (`swift build --build-tests`
    /// builds both), or `$FUNCTION_BIN`.
    static let binary: String = {
        if let bin = ProcessInfo.processInfo.environment["FUNCTION_BIN"], !bin.isEmpty { return bin }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = me.deletingLastPathComponent()
        // The test binary may sit inside an .xctest bundle folder.
        while dir.path != "/",
            !FileManager.default.fileExists(atPath: dir.appendingPathComponent("function-modelcache").path)
        {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("function-modelcache").path
    }()

    static let runs = 3

    /// stdout, stderr and exit status of one `render` process.
    struct Run: Equatable {
        var stdout: Data
        var stderr: Data
        var status: Int32
    }

    static func render(_ s: Scenario) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        let kind = try s.input().xr["kind"]?.stringValue?.lowercased() ?? ""
        let composition =
            s.file("composition.yaml")
            ?? Scenario.root.appendingPathComponent("apis/\(kind)/composition.yaml").path
        var args = [
            "render", s.file("xr.yaml")!, composition,
            Scenario.root.appendingPathComponent("examples/functions.yaml").path, "-r",
        ]
        if let o = s.file("observed.yaml") { args += ["-o", o] }
        if let e = s.file("required.yaml") { args += ["-e", e] }
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_DETERMINISTIC_HASHING"] = nil  // Every process gets its own hash seed.
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(stdout: stdout, stderr: stderr, status: p.terminationStatus)
    }

    @Test(
        "The binary renders every scenario byte for byte the same in separate processes, and as recorded",
        arguments: Scenario.all())
    func sameBytesInEveryProcess(_ s: Scenario) throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.binary),
            "no binary at \(Self.binary): run `swift build --build-tests` (or set FUNCTION_BIN)")
        let runs = try (1...Self.runs).map { _ in try Self.render(s) }
        for (i, run) in runs.enumerated().dropFirst() where run != runs[0] {
            Issue.record("\(s.name): process \(i + 1) printed other bytes than process 1")
        }
        if let expected = s.file("expected.yaml") {
            #expect(runs[0].status == 0, "\(s.name): \(String(decoding: runs[0].stderr, as: UTF8.self))")
            #expect(
                runs[0].stdout == FileManager.default.contents(atPath: expected),
                "\(s.name): stdout differs from expected.yaml")
        } else {
            #expect(runs[0].status == 1)
            #expect(runs[0].stdout.isEmpty)
        }
    }
}
