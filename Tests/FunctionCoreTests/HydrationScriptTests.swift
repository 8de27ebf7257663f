import Foundation
import Testing

@testable import FunctionCore

/// Runs the real hydration script under /bin/sh with a stand-in `hf` that
/// records its arguments and plays the hub (success, partial download, the
/// hub's error messages, a full disk), so the script's behaviour is tested,
/// not just its text.
@Suite struct HydrationScriptTests {
    struct Run {
        let status: Int32
        let calls: [String]
        /// The marker inside the run's revision directory.
        let marker: String?
    }

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hydrate-\(UUID().uuidString)")
    var cache: URL { dir.appendingPathComponent("cache") }

    /// What the stand-in `hf` does: `ok` writes a weights file into --local-dir;
    /// `partial` writes one part and fails; the others print the hub's (or the OS's)
    /// error text and exit 1, as the real CLI does.
    static let stub = """
        #!/bin/sh
        for a in "$@"; do printf '%s\\n' "$a" >> "$STUB_LOG"; done; echo --- >> "$STUB_LOG"
        d=; p=; for a in "$@"; do [ "$p" = --local-dir ] && d=$a; p=$a; done
        case $STUB in
        ok) [ -f "$d/part-1" ] && echo resumed >> "$STUB_LOG"; echo w > "$d/part-2"; exit 0;;
        partial) mkdir -p "$d"; echo w > "$d/part-1"; echo 'ConnectionError: Read timed out' >&2; exit 1;;
        notfound) echo 'huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. (Request ID: x)' >&2; exit 1;;
        revision) echo 'huggingface_hub.errors.RevisionNotFoundError: 404 Client Error. Invalid rev id: v9' >&2; exit 1;;
        gated) echo 'huggingface_hub.errors.GatedRepoError: 403 Client Error. Cannot access gated repo' >&2; exit 1;;
        denied) echo 'requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url' >&2; exit 1;;
        nospace) echo 'OSError: [Errno 28] No space left on device' >&2; exit 1;;
        flaky) echo 'requests.exceptions.ConnectionError: 503 Server Error' >&2; exit 1;;
        esac
        exit 9
        """

    func run(
        repo: String = "a/b", revision: String? = nil, directory: String? = nil, keep: [String] = [],
        generation: Int64 = 2, stub mode: String = "ok"
    ) throws -> Run {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("calls")
        try Self.stub.write(to: bin.appendingPathComponent("hf"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("hf").path)

        let source = ArtifactSource(repo: repo, revision: revision)
        let revisionDir = directory ?? source.directory
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", HydrationScript.text]
        var env = [
            "PATH": "\(bin.path):/usr/bin:/bin", "CACHE_DIR": cache.path, "MODEL_REPO": repo,
            "MODEL_DIR": revisionDir, "KEEP_DIRS": keep.joined(separator: " "),
            "MODEL_GENERATION": String(generation), "STUB": mode, "STUB_LOG": log.path,
        ]
        if let revision { env["MODEL_REVISION"] = revision }
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let calls =
            (try? String(contentsOf: log, encoding: .utf8))?.components(separatedBy: "---\n").filter { !$0.isEmpty }
            ?? []
        let marker = try? String(
            contentsOf: cache.appendingPathComponent(revisionDir).appendingPathComponent(HydrationScript.markerFile),
            encoding: .utf8)
        return Run(status: p.terminationStatus, calls: calls, marker: marker)
    }

    /// The entries at the claim's root, sorted.
    func root() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []).sorted() }

    /// Creates a revision directory as an earlier Job would have left it.
    func revision(_ name: String, complete: Bool = true, generation: Int64? = 1, activeMinutesAgo: Int? = nil) throws {
        let d = cache.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        try "w".write(to: d.appendingPathComponent("weights"), atomically: true, encoding: .utf8)
        if complete {
            try "hf://x".write(
                to: d.appendingPathComponent(HydrationScript.markerFile), atomically: true, encoding: .utf8)
        }
        if let generation {
            try String(generation).write(
                to: d.appendingPathComponent(HydrationScript.generationFile), atomically: true, encoding: .utf8)
        }
        if let minutes = activeMinutesAgo {
            let f = d.appendingPathComponent(HydrationScript.activeFile)
            try "".write(to: f, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: Double(-60 * minutes))],
                ofItemAtPath: f.path)
        }
    }

    @Test(
        "A download writes only into its revision directory, with a marker equal to the source identity; a rerun does not download again"
    )
    func markerAndRerun() throws {
        let source = ArtifactSource(repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: nil)
        let first = try run(repo: source.repo)
        #expect(first.status == 0)
        #expect(
            first.calls == ["download\nQwen/Qwen2.5-0.5B-Instruct\n--local-dir\n\(cache.path)/\(source.directory)\n"])
        #expect(first.marker == "hf://Qwen/Qwen2.5-0.5B-Instruct")
        #expect(root() == [source.directory], "nothing is written outside the revision directory")
        let files = try FileManager.default.contentsOfDirectory(
            atPath: cache.appendingPathComponent(source.directory).path
        ).sorted()
        #expect(files == [HydrationScript.markerFile, HydrationScript.generationFile, "part-2"])
        let again = try run(repo: source.repo)
        #expect(again.status == 0)
        #expect(again.calls.count == 1, "the second run must not download again")
    }

    @Test("A revision downloads with --revision into its own directory, next to the other one")
    func newRevision() throws {
        let v1 = ArtifactSource(repo: "a/b", revision: nil)
        let v2 = ArtifactSource(repo: "a/b", revision: "v2")
        _ = try run()
        let second = try run(revision: "v2", keep: [v1.directory])
        #expect(second.calls.last == "download\na/b\n--revision\nv2\n--local-dir\n\(cache.path)/\(v2.directory)\n")
        #expect(second.marker == "hf://a/b@v2")
        #expect(root() == [v1.directory, v2.directory].sorted())
    }

    @Test("An interrupted download leaves no marker, and the retry resumes in the same directory")
    func resume() throws {
        let failed = try run(stub: "partial")
        #expect(failed.status == 1, "a transient failure is retried by the Job's backoff")
        #expect(failed.marker == nil)
        let retried = try run()
        #expect(retried.status == 0)
        #expect(retried.calls.count == 3, "the retry downloaded again")
        #expect(retried.calls.last == "resumed\n", "the partial file was still there for hf to resume")
        #expect(retried.marker == "hf://a/b")
    }

    @Test(
        "Permanent failures exit with the codes the Job's podFailurePolicy fails on",
        arguments: [
            ("notfound", 10), ("revision", 10), ("gated", 10), ("denied", 10), ("nospace", 11), ("flaky", 1),
        ])
    func exitCodes(_ mode: String, _ code: Int32) throws {
        try revision("rev-000000000001")
        let r = try run(stub: mode)
        #expect(r.status == code)
        #expect(r.marker == nil)
        #expect(root().contains("rev-000000000001"), "nothing is pruned after a failure")
    }

    @Test("After success, pruning keeps its own, the kept, the active and the newer revisions and removes the rest")
    func prune() throws {
        try revision("rev-0000000000a1")  // old, complete: pruned
        try revision("rev-0000000000b2")  // staged: kept by KEEP_DIRS
        try revision("rev-0000000000c3")  // a consumer mounts it: kept by KEEP_DIRS
        try revision("rev-0000000000d4", complete: false, activeMinutesAgo: 1)  // a download in progress: kept
        try revision("rev-0000000000e5", generation: 3)  // written by a newer spec: kept
        try revision("rev-0000000000f6", complete: false, activeMinutesAgo: 30)  // abandoned: pruned
        try revision("rev-000000000007", generation: nil)  // from before generations: pruned
        try FileManager.default.createDirectory(
            at: cache.appendingPathComponent("lost+found"), withIntermediateDirectories: true)
        let own = ArtifactSource(repo: "a/b", revision: nil).directory
        let r = try run(keep: ["rev-0000000000b2", "rev-0000000000c3"], generation: 2)
        #expect(r.status == 0)
        #expect(
            root()
                == [
                    own, "lost+found", "rev-0000000000b2", "rev-0000000000c3", "rev-0000000000d4",
                    "rev-0000000000e5",
                ].sorted())
    }

    @Test("Switching back to a revision still on disk does not download again and keeps the one being left")
    func switchBack() throws {
        let v1 = ArtifactSource(repo: "a/b", revision: nil)
        let v2 = ArtifactSource(repo: "a/b", revision: "v2")
        _ = try run(generation: 1)
        _ = try run(revision: "v2", keep: [v1.directory], generation: 2)
        let back = try run(keep: [v2.directory], generation: 3)
        #expect(back.status == 0)
        #expect(back.calls.count == 2, "the marker matched: no third download")
        #expect(root() == [v1.directory, v2.directory].sorted(), "the staged revision is kept")
    }

    @Test(
        "A revision directory that is not rev-<hex> is refused before anything is written",
        arguments: ["../x", "x", "rev-a/b", ""])
    func badDirectory(_ name: String) throws {
        let r = try run(directory: name)
        #expect(r.status == 2)
        #expect(r.calls.isEmpty)
        #expect(root().isEmpty)
    }

    @Test(
        "Hostile values stay single arguments and never run as shell",
        arguments: [
            "x; touch PWNED", "$(touch PWNED)", "`touch PWNED`", "a b\nc", "'\"", "--help",
        ])
    func hostile(_ value: String) throws {
        let r = try run(repo: value, revision: value, directory: "rev-00000000abcd")
        #expect(
            r.calls.first == "download\n\(value)\n--revision\n\(value)\n--local-dir\n\(cache.path)/rev-00000000abcd\n")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("PWNED").path))
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/PWNED"))
    }
}
