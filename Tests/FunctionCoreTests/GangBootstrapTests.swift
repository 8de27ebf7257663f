import Foundation
import Testing

@testable import FunctionCore

/// Runs the gang bootstrap for real, exactly as the composed LeaderWorkerSet
/// container would (its `command` followed by its `args`), under /bin/sh with
/// stand-in `ray` and `python3` programs that record how they were called.
@Suite struct GangBootstrapTests {
    /// What one run did.
    struct Run {
        let status: Int32
        let pid: Int32
        let log: String
        let rayCalls: [[String]]
        let engineCalls: [[String]]
        let enginePID: Int32?
        let seconds: Double
    }

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gang-\(UUID().uuidString)")

    /// The user's engine args: spaces, quotes, shell syntax and a `$(...)` that must never run.
    static let hostileArgs: [String] = [
        "--max-model-len=131072", "--chat-template", "{{ 'a b' }} \"q\"", "--x=$(touch PWNED)", "`touch PWNED`",
        "a; touch PWNED", "it's", "",
    ]

    /// The leader and worker engine containers of a composed multi-node replica.
    static func containers(args: [Value], command: Value? = nil) throws -> (leader: Value, worker: Value) {
        let r = Composer().run(
            Fixtures.request(
                Workloads.replica(
                    cache: "qwen-2-5", workers: Workloads.workers(pipeline: 2, args: args, command: command)),
                required: [
                    "cluster": [Fixtures.cluster("gpu-east")],
                    "cache": [Workloads.cache(phases: [("gpu-east", "Ready")])],
                ]))
        let lws = try #require(manifest(r, "workload"))
        return (
            try #require(engineOf(lws[path: "spec", "leaderWorkerTemplate", "leaderTemplate"])),
            try #require(engineOf(lws[path: "spec", "leaderWorkerTemplate", "workerTemplate"]))
        )
    }

    /// Writes the stand-ins. `alive` is what successive node counts answer (the
    /// last repeats); `rayFailures` how many `ray` calls fail before one succeeds.
    func prepare(alive: [Int], rayFailures: Int = 0) throws -> URL {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try alive.map(String.init).joined(separator: "\n").appending("\n")
            .write(to: dir.appendingPathComponent("alive"), atomically: true, encoding: .utf8)
        try "\(rayFailures)\n".write(to: dir.appendingPathComponent("ray-failures"), atomically: true, encoding: .utf8)
        let d = dir.path
        // Each call: the arguments, each ended by NUL, then a line "---": exact argv, no re-parsing.
        let ray = """
            #!/bin/sh
            printf '%s\\0' "$@" >> '\(d)/ray.calls'; echo --- >> '\(d)/ray.calls'
            n=$(cat '\(d)/ray-failures')
            if [ "$n" -gt 0 ]; then echo $((n - 1)) > '\(d)/ray-failures'; echo 'ray: cannot connect' >&2; exit 1; fi
            if [ -e '\(d)/ray-blocks' ]; then exec sleep 60; fi
            exit 0

            """
        let python = """
            #!/bin/sh
            if [ "$1" = "-c" ]; then
              case "$2" in *ray.nodes*) ;; *) echo "unexpected python3 -c" >&2; exit 9 ;; esac
              echo 'a Ray log line that is not a count'
              head -n 1 '\(d)/alive'
              if [ "$(wc -l < '\(d)/alive')" -gt 1 ]; then tail -n +2 '\(d)/alive' > '\(d)/alive.next'; mv '\(d)/alive.next' '\(d)/alive'; fi
              exit 0
            fi
            echo $$ > '\(d)/engine.pid'
            printf '%s\\0' "$@" >> '\(d)/engine.calls'; echo --- >> '\(d)/engine.calls'
            exit 0

            """
        for (name, text) in [("ray", ray), ("python3", python)] {
            try text.write(to: bin.appendingPathComponent(name), atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent(name).path)
        }
        return bin
    }

    func calls(_ file: String) -> [[String]] {
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(file).path) else { return [] }
        return String(decoding: data, as: UTF8.self).components(separatedBy: "---\n").filter { !$0.isEmpty }.map {
            var parts = $0.components(separatedBy: "\0")
            parts.removeLast()  // after the last NUL
            return parts
        }
    }

    /// Runs `container`'s command and args with `env` on top of a PATH of stand-ins.
    /// `shell` replaces `/bin/sh` (images differ: dash on Debian and Ubuntu, bash elsewhere).
    func run(
        _ container: Value, env: [String: String], alive: [Int] = [2], rayFailures: Int = 0, shell: String = "/bin/sh",
        whileRunning: ((Process) throws -> Void)? = nil
    ) throws -> Run {
        let bin = try prepare(alive: alive, rayFailures: rayFailures)
        var argv =
            (container["command"]?.listValue ?? []).compactMap(\.stringValue)
            + (container["args"]?.listValue ?? []).compactMap(\.stringValue)
        #expect(argv.first == "/bin/sh")
        argv[0] = shell
        let p = Process()
        // Foundation's Process starts children with almost every signal blocked; a
        // container starts with none. Perl clears the mask, then execs the container's
        // argv unchanged (same PID), or the script's `wait` would never see its child exit.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        p.arguments =
            [
                "-MPOSIX", "-e",
                #"sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!"; exec { $ARGV[0] } @ARGV or die "exec: $!""#,
            ]
            + argv
        p.currentDirectoryURL = dir
        p.environment = ["PATH": "\(bin.path):/usr/bin:/bin"].merging(env) { $1 }
        let logFile = dir.appendingPathComponent("stderr")
        try Data().write(to: logFile)
        p.standardError = try FileHandle(forWritingTo: logFile)
        p.standardOutput = FileHandle.nullDevice
        let start = Date()
        try p.run()
        if let whileRunning { try whileRunning(p) }
        p.waitUntilExit()
        let pid = (try? String(contentsOf: dir.appendingPathComponent("engine.pid"), encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return Run(
            status: p.terminationStatus, pid: p.processIdentifier,
            log: (try? String(contentsOf: logFile, encoding: .utf8)) ?? "",
            rayCalls: calls("ray.calls"), engineCalls: calls("engine.calls"), enginePID: pid,
            seconds: Date().timeIntervalSince(start))
    }

    static let leaderEnv = [
        "LWS_GROUP_SIZE": "2", "MODELPLANE_GANG_POLL_SECONDS": "0", "MODELPLANE_GANG_TIMEOUT_SECONDS": "60",
    ]

    @Test(
        "Leader: starts the Ray head, waits for the gang, then execs the engine with the user's args intact plus the injected flags",
        arguments: ["/bin/sh", "/bin/bash"])
    func leaderForms(_ shell: String) throws {
        let leader = try Self.containers(args: Self.hostileArgs.map(Value.string)).leader
        let r = try run(leader, env: Self.leaderEnv, alive: [0, 1, 2], shell: shell)
        #expect(r.status == 0, "\(r.log)")
        #expect(r.rayCalls == [["start", "--head", "--port=6379"]])
        #expect(
            r.engineCalls == [
                ["-m", "vllm.entrypoints.openai.api_server"] + Self.hostileArgs
                    + ["--model=/models/qwen", "--tensor-parallel-size=4", "--pipeline-parallel-size=2"]
            ])
        #expect(r.enginePID == r.pid, "the engine replaces the shell (exec), so it gets the pod's signals")
        #expect(r.log.contains("waiting for the gang: 0 of 2 Ray nodes alive"))
        #expect(r.log.contains("waiting for the gang: 1 of 2 Ray nodes alive"))
        #expect(r.log.contains("gang formed: 2 of 2 Ray nodes alive"))
        #expect(
            !FileManager.default.fileExists(atPath: dir.appendingPathComponent("PWNED").path),
            "no user arg ran as shell")
    }

    @Test("Leader: gives up after the bound with a clear message and a non-zero exit; the engine never starts")
    func leaderGivesUp() throws {
        let leader = try Self.containers(args: []).leader
        let r = try run(
            leader,
            env: [
                "LWS_GROUP_SIZE": "2", "MODELPLANE_GANG_TIMEOUT_SECONDS": "2",
                "MODELPLANE_GANG_POLL_SECONDS": "1",
            ], alive: [1])
        #expect(r.status == 1)
        #expect(r.engineCalls.isEmpty)
        #expect(r.log.contains("modelplane-gang-leader: giving up: only 1 of 2 Ray nodes joined within 2s"), "\(r.log)")
        // `date +%s` counts whole seconds, so a 2 s bound ends after at least 1 s of real time.
        #expect(r.seconds >= 1 && r.seconds < 20, "the bound is measured in time: \(r.seconds)s")
        #expect(r.log.contains("waiting for the gang: 1 of 2 Ray nodes alive"))
    }

    @Test(
        "Leader: a bad bound or a missing group size stops at once, saying which variable is wrong",
        arguments: [
            (
                ["LWS_GROUP_SIZE": "2", "MODELPLANE_GANG_TIMEOUT_SECONDS": "10m"],
                "MODELPLANE_GANG_TIMEOUT_SECONDS must be a whole number of seconds, got '10m'"
            ),
            (
                ["LWS_GROUP_SIZE": "2", "MODELPLANE_GANG_POLL_SECONDS": "-1"],
                "MODELPLANE_GANG_POLL_SECONDS must be a whole number of seconds, got '-1'"
            ),
            ([:], "LWS_GROUP_SIZE must be set by the LeaderWorkerSet"),
        ])
    func leaderBadEnv(_ env: [String: String], _ message: String) throws {
        let r = try run(try Self.containers(args: []).leader, env: env)
        #expect(r.status == 2)
        #expect(r.log.contains(message), "\(r.log)")
        #expect(r.engineCalls.isEmpty)
    }

    @Test("Worker: joins the leader's Ray head and blocks; retries while the head is not up yet")
    func workerJoins() throws {
        let worker = try Self.containers(args: Self.hostileArgs.map(Value.string)).worker
        let env = ["LWS_LEADER_ADDRESS": "qwen-0.qwen.models", "MODELPLANE_GANG_POLL_SECONDS": "0"]
        let r = try run(worker, env: env, rayFailures: 2)
        #expect(r.status == 0, "\(r.log)")
        #expect(r.rayCalls == Array(repeating: ["start", "--address=qwen-0.qwen.models:6379", "--block"], count: 3))
        #expect(r.engineCalls.isEmpty, "workers run no engine server")
    }

    @Test("Worker: gives up after the bound; without a leader address it says so")
    func workerGivesUp() throws {
        let worker = try Self.containers(args: []).worker
        let r = try run(
            worker, env: ["LWS_LEADER_ADDRESS": "qwen-0.qwen.models", "MODELPLANE_GANG_TIMEOUT_SECONDS": "0"],
            rayFailures: 100)
        #expect(r.status == 1)
        #expect(
            r.log.contains("giving up: could not stay joined to the Ray head at qwen-0.qwen.models:6379 within 0s"),
            "\(r.log)")
        let none = try run(worker, env: [:])
        #expect(none.status == 2)
        #expect(none.log.contains("LWS_LEADER_ADDRESS must be set by the LeaderWorkerSet"))
    }

    @Test(
        "Worker: a SIGTERM to the shell (PID 1 in the pod) stops the blocking ray at once",
        arguments: ["/bin/sh", "/bin/bash"])
    func workerStops(_ shell: String) throws {
        let worker = try Self.containers(args: []).worker
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data().write(to: dir.appendingPathComponent("ray-blocks"))
        let r = try run(worker, env: ["LWS_LEADER_ADDRESS": "qwen-0.qwen.models"], shell: shell) { p in
            let deadline = Date().addingTimeInterval(10)
            while self.calls("ray.calls").isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            Thread.sleep(forTimeInterval: 0.2)
            p.terminate()
        }
        #expect(r.status == 143, "\(r.log)")
        #expect(r.log.contains("stopped by a signal"))
        #expect(r.seconds < 30, "ray (sleeping 60 s) was stopped, not waited for")
    }

    @Test("Kubernetes leaves the scripts alone: no $(NAME) reference and no $$ for it to expand")
    func noKubernetesExpansion() throws {
        for script in [GangBootstrap.leaderScript, GangBootstrap.workerScript] {
            #expect(!script.contains("$$"))
            let reference = try Regex(#"\$\([A-Za-z_][A-Za-z0-9_.-]*\)"#)
            #expect(script.firstMatch(of: reference) == nil, "\(script)")
        }
    }

    @Test("The bootstrap is a constant: no user string is in the command, whatever the args")
    func constant() throws {
        let a = try Self.containers(args: Self.hostileArgs.map(Value.string))
        let b = try Self.containers(args: ["--model=/elsewhere"])
        #expect(a.leader["command"] == b.leader["command"])
        #expect(a.leader["command"] == .list(GangBootstrap.leaderCommand.map(Value.string)))
        #expect(a.worker["command"] == .list(GangBootstrap.workerCommand.map(Value.string)))
        #expect(a.worker["args"] == nil)
    }
}
