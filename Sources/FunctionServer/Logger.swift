import FoundationEssentials
import FunctionCore
import Glibc

/// Writes structured JSON log lines to stderr, one `write(2)` per line so
/// that lines from concurrent calls never interleave.
public struct Logger: Sendable {
    /// Log levels.
    public enum Level: String, Sendable {
        case debug, info, warn, error
    }

    /// Whether debug detail is logged.
    public let debug: Bool
    private let fd: Int32

    /// A logger writing to `fd` (stderr by default).
    public init(debug: Bool, fd: Int32 = 2) {
        self.debug = debug
        self.fd = fd
    }

    /// Writes one line: `level`, `ts`, `msg` and the given fields, keys sorted.
    public func write(_ level: Level, _ message: String, _ fields: Fields = [:]) {
        if level == .debug && !debug { return }
        var all = fields
        all["level"] = .string(level.rawValue)
        all["msg"] = .string(message)
        all["ts"] = .string(Logger.timestamp())
        var line = Array(Value.object(all).canonicalJSON().utf8)
        line.append(0x0A)
        line.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    private static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        // Zero-padded by hand: String(format:) is Foundation's and would link ICU into the binary.
        func pad(_ n: Int, _ width: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
            + "\(pad(Int(tv.tv_usec / 1000), 3))Z"
    }
}
