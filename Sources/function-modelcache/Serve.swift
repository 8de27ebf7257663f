import ArgumentParser
import Dispatch
import FoundationEssentials
import FunctionCore
import FunctionServer
import Glibc

/// `serve`: the gRPC server Crossplane calls.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve RunFunction over gRPC (the default command).",
        discussion: """
            In a cluster Crossplane starts the function with no arguments and the \
            environment variable TLS_SERVER_CERTS_DIR (mTLS). `crossplane render` \
            starts it with a lone --insecure.

            SIGTERM or SIGINT: stop accepting calls, answer every call already received \
            within --grace-period, exit 0. SIGHUP is logged and ignored (certificates and \
            flags are read once, at start: restart to reload them). SIGPIPE is ignored, so \
            a closed stderr never stops the server. A server certificate that is expired \
            or not yet valid is logged as a warning at start; the server still starts.
            """
    )

    @Option(help: "The host:port to listen on (port 1-65535; IPv6 as [::]:9443).")
    var address = "0.0.0.0:9443"

    @Option(
        help: ArgumentHelp(
            "Directory holding tls.crt, tls.key and ca.crt for mTLS.",
            discussion: "Defaults to the environment variable TLS_SERVER_CERTS_DIR."))
    var tlsCertsDir: String?

    @Flag(help: "Serve plaintext gRPC without TLS; wins over certificates.")
    var insecure = false

    @Flag(name: [.short, .long], help: "Log more detail per call.")
    var debug = false

    @Option(help: "Largest request accepted, in MB (Crossplane sends every observed resource).")
    var maxRecvMessageSize = 64

    @Option(help: "Seconds (0 to 3600) that calls already received get to finish after SIGTERM or SIGINT.")
    var gracePeriod = 10.0

    @Option(
        help: ArgumentHelp(
            "Calls composed at once; more wait their turn (default: one per CPU core).",
            discussion:
                "Composing is CPU-bound: beyond one call per core, concurrency adds memory (each call holds its decoded request and response), not throughput."
        ))
    var maxConcurrentCalls: Int?

    func validate() throws {
        guard (1...2047).contains(maxRecvMessageSize) else {
            throw ValidationError("--max-recv-message-size \(maxRecvMessageSize) must be between 1 and 2047 (MB)")
        }
        if let n = maxConcurrentCalls, !(1...1024).contains(n) {
            throw ValidationError("--max-concurrent-calls \(n) must be between 1 and 1024")
        }
        guard gracePeriod.isFinite, (0...Serve.maxGracePeriod).contains(gracePeriod) else {
            throw ValidationError(
                "--grace-period \(gracePeriod) must be a number of seconds from 0 to \(Int(Serve.maxGracePeriod))")
        }
        do {
            _ = try ListenAddress(parsing: address)
        } catch let error as ServerError {
            throw ValidationError(error.description)
        }
    }

    /// The longest --grace-period accepted: an hour is far beyond any pod's termination grace.
    static let maxGracePeriod = 3600.0

    func run() throws {
        // A closed stderr (a log reader that went away) must not kill the
        // server: writes then fail with EPIPE and the line is dropped.
        signal(SIGPIPE, SIG_IGN)
        let log = Logger(debug: debug)
        configureGRPCLogging(debug: debug)
        tuneAllocator()

        let tls = try tlsMaterial()
        if let warning = tls?.validityWarning(now: Int64(Date().timeIntervalSince1970)) {
            log.write(.warn, warning)
        }
        let listen = try ListenAddress(parsing: address)
        let server = try start(listen, tls: tls, log: log)
        // Before the Serving line: whoever waits for it may signal at once.
        let signals = watchSignals(stopping: server, log: log)
        log.write(
            .info, "Serving",
            [
                "version": .string(FunctionVersion.current), "address": .string(listen.description),
                "port": .int(Int64(server.port)), "tls": .bool(tls != nil),
                "maxRecvMessageSizeMB": .int(Int64(maxRecvMessageSize)),
                "maxConcurrentCalls": .int(Int64(concurrentCalls)),
            ])

        let trimmer = MemoryTrimmer(every: 10)
        server.wait()
        trimmer.cancel()
        signals.cancel()
        log.write(.info, "Stopped")
    }

    /// Calls composed at once: --max-concurrent-calls, or one per CPU core.
    private var concurrentCalls: Int { maxConcurrentCalls ?? ProcessInfo.processInfo.activeProcessorCount }

    /// The mTLS material, or nil with --insecure; with neither, one line on stderr and exit code 2.
    private func tlsMaterial() throws -> TLSMaterial? {
        if insecure { return nil }
        if let dir = tlsCertsDir ?? ProcessInfo.processInfo.environment["TLS_SERVER_CERTS_DIR"], !dir.isEmpty {
            return try TLSMaterial.load(directory: dir)
        }
        // One line, no usage dump: this is what a pod's log shows when misconfigured.
        FileHandle.standardError.write(
            Data(
                "function-modelcache: refusing to serve without TLS: set TLS_SERVER_CERTS_DIR or pass --tls-certs-dir for mTLS, or pass --insecure\n"
                    .utf8))
        throw ExitCode(2)
    }

    /// Starts serving RunFunction on `listen`; a server that cannot start is logged and exits 1.
    private func start(_ listen: ListenAddress, tls: TLSMaterial?, log: Logger) throws -> GRPCServer {
        do {
            return try GRPCServer(
                address: listen.description, tls: tls, maxReceiveBytes: maxRecvMessageSize * 1024 * 1024,
                maxConcurrentCalls: concurrentCalls, handler: FunctionService(log: log))
        } catch {
            log.write(.error, "Cannot start", ["error": .string("\(error)")])
            throw ExitCode.failure
        }
    }

    /// SIGTERM and SIGINT shut `server` down within --grace-period; SIGHUP is logged and ignored.
    private func watchSignals(stopping server: GRPCServer, log: Logger) -> SignalWatcher {
        SignalWatcher(signals: [SIGTERM, SIGINT, SIGHUP]) { [gracePeriod] signal in
            if signal == SIGHUP {
                log.write(
                    .info, "Ignoring SIGHUP: certificates and flags are read once, at start; restart to reload them")
                return
            }
            log.write(
                .info, "Shutting down", ["signal": .int(Int64(signal)), "gracePeriodSeconds": .double(gracePeriod)])
            server.shutdown(grace: gracePeriod)
        }
    }
}

/// Turns signals into a callback on a private queue instead of killing the process.
final class SignalWatcher {
    private let sources: [DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "signals")
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { handler(sig) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for s in sources { s.cancel() }
    }
}

/// Returns freed heap memory to the OS every few seconds. gRPC buffers a
/// request before rejecting it as too large; after a burst of such requests
/// glibc keeps the freed pages, and RSS would stay at the burst's high-water
/// mark (measured by bench/soak.py: +43% after 100,000 calls, +2% without
/// oversized requests). malloc_trim is cheap when there is nothing to return.
final class MemoryTrimmer {
    private let timer: DispatchSourceTimer

    init(every seconds: Int) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "malloc-trim", qos: .utility))
        timer.schedule(deadline: .now() + .seconds(seconds), repeating: .seconds(seconds))
        timer.setEventHandler { releaseFreeMemory() }
        timer.resume()
    }

    func cancel() { timer.cancel() }
}
