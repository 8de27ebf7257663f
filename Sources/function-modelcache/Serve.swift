import ArgumentParser
import Dispatch
import FoundationEssentials
import Glibc
import FunctionCore
import FunctionServer

/// `serve`: the gRPC server Crossplane calls.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve RunFunction over gRPC (the default command).",
        discussion: """
            In a cluster Crossplane starts the function with no arguments and the \
            environment variable TLS_SERVER_CERTS_DIR (mTLS). `crossplane render` \
            starts it with a lone --insecure.
            """
    )

    @Option(help: "The address to listen on.")
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

    @Option(help: "Seconds that in-flight calls get to finish after SIGTERM or SIGINT.")
    var gracePeriod = 10.0

    @Option(
        help: ArgumentHelp(
            "Calls composed at once; more wait their turn (default: one per CPU core).",
            discussion: "Composing is CPU-bound: beyond one call per core, concurrency adds memory (each call holds its decoded request and response), not throughput."))
    var maxConcurrentCalls: Int?

    func validate() throws {
        guard (1...2047).contains(maxRecvMessageSize) else {
            throw ValidationError("--max-recv-message-size \(maxRecvMessageSize) must be between 1 and 2047 (MB)")
        }
        if let n = maxConcurrentCalls, !(1...1024).contains(n) {
            throw ValidationError("--max-concurrent-calls \(n) must be between 1 and 1024")
        }
        guard gracePeriod >= 0 else {
            throw ValidationError("--grace-period \(gracePeriod) must not be negative")
        }
    }

    func run() throws {
        let log = Logger(debug: debug)
        configureGRPCLogging(debug: debug)
        tuneAllocator()

        let tls: TLSMaterial?
        if insecure {
            tls = nil
        } else if let dir = tlsCertsDir ?? ProcessInfo.processInfo.environment["TLS_SERVER_CERTS_DIR"], !dir.isEmpty {
            tls = try TLSMaterial.load(directory: dir)
        } else {
            // One line, no usage dump: this is what a pod's log shows when misconfigured.
            FileHandle.standardError.write(Data(
                "function-modelcache: refusing to serve without TLS: set TLS_SERVER_CERTS_DIR or pass --tls-certs-dir for mTLS, or pass --insecure\n".utf8))
            throw ExitCode(2)
        }

        let server: GRPCServer
        do {
            server = try GRPCServer(
                address: address, tls: tls, maxReceiveBytes: maxRecvMessageSize * 1024 * 1024,
                maxConcurrentCalls: maxConcurrentCalls ?? ProcessInfo.processInfo.activeProcessorCount,
                handler: FunctionService(log: log))
        } catch {
            log.write(.error, "Cannot start", ["error": .string("\(error)")])
            throw ExitCode.failure
        }
        log.write(.info, "Serving", [
            "address": .string(address), "port": .int(Int64(server.port)), "tls": .bool(tls != nil),
            "maxRecvMessageSizeMB": .int(Int64(maxRecvMessageSize)),
            "maxConcurrentCalls": .int(Int64(maxConcurrentCalls ?? ProcessInfo.processInfo.activeProcessorCount)),
        ])

        let signals = SignalWatcher(signals: [SIGTERM, SIGINT]) { [gracePeriod] signal in
            log.write(.info, "Shutting down", ["signal": .int(Int64(signal)), "gracePeriodSeconds": .double(gracePeriod)])
            server.shutdown(grace: gracePeriod)
        }
        let trimmer = MemoryTrimmer(every: 10)
        server.wait()
        trimmer.cancel()
        signals.cancel()
        log.write(.info, "Stopped")
    }
}

/// Turns SIGTERM/SIGINT into a callback on a private queue instead of killing the process.
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
