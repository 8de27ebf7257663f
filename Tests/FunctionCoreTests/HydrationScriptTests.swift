import Foundation
import Testing

@testable import FunctionCore

/// Runs the real hydration script under /bin/sh with a stand-in `hf` that
/// records its arguments, so the script's behaviour is tested, not just its text.
@Suite struct HydrationScriptTests {
    struct Run {
        let status: Int32
        let calls: [String]
        let marker: String?
    }

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hydrate-\(UUID().uuidString)")

    func run(repo: String, revision: String?, hfFails: Bool = false) throws -> Run {
        let bin = dir.appendingPathComponent("bin"), cache = dir.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("calls")
        // One line per argument, then a separator: exact argv, no shell re-parsing.
        let stub = "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> \"\(log.path)\"; done\necho --- >> \"\(log.path)\"\n"
            + (hfFails ? "exit 3\n" : "")
        try stub.write(to: bin.appendingPathComponent("hf"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("hf").path)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", HydrationScript.text]
        var env = ["PATH": "\(bin.path):/usr/bin:/bin", "CACHE_DIR": cache.path, "MODEL_REPO": repo]
        if let revision { env["MODEL_REVISION"] = revision }
        p.environment = env
        try p.run()
        p.waitUntilExit()
        let calls = (try? String(contentsOf: log, encoding: .utf8))?.components(separatedBy: "---\n").filter { !$0.isEmpty } ?? []
        let marker = try? String(contentsOf: cache.appendingPathComponent(HydrationScript.markerFile), encoding: .utf8)
        return Run(status: p.terminationStatus, calls: calls, marker: marker)
    }

    @Test("A download writes a marker equal to the source identity; a rerun with the same source does nothing")
    func markerAndRerun() throws {
        let first = try run(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: nil)
        #expect(first.status == 0)
        #expect(first.calls == ["download\nQwen/Qwen2.5-0.5B-Instruct\n--local-dir\n\(dir.path)/cache\n"])
        #expect(first.marker == ArtifactSource(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: nil).identity)
        let again = try run(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: nil)
        #expect(again.status == 0)
        #expect(again.calls.count == 1, "the second run must not download again")
    }

    @Test("A new revision downloads again with --revision and updates the marker")
    func newRevision() throws {
        _ = try run(repo: "a/b", revision: nil)
        let second = try run(repo: "a/b", revision: "v2")
        #expect(second.calls.last == "download\na/b\n--revision\nv2\n--local-dir\n\(dir.path)/cache\n")
        #expect(second.marker == ArtifactSource(repo: "a/b", revision: "v2").identity)
    }

    @Test("A failed download leaves no marker, so the retry downloads again")
    func failureLeavesNoMarker() throws {
        let r = try run(repo: "a/b", revision: nil, hfFails: true)
        #expect(r.status != 0)
        #expect(r.marker == nil)
    }

    @Test("Hostile values stay single arguments and never run as shell", arguments: [
        "x; touch PWNED", "$(touch PWNED)", "`touch PWNED`", "a b\nc", "'\"", "--help",
    ])
    func hostile(_ value: String) throws {
        let r = try run(repo: value, revision: value)
        #expect(r.calls.first == "download\n\(value)\n--revision\n\(value)\n--local-dir\n\(dir.path)/cache\n")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("PWNED").path))
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/PWNED"))
    }
}
