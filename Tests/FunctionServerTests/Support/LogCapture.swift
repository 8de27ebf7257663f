import Foundation
import FunctionServer
import Glibc

/// A `Logger` writing to a temporary file (as it writes to stderr), and the
/// lines it wrote.
final class LogCapture {
    /// The logger to hand to the code under test.
    let logger: Logger
    private let fd: Int32
    private let path: String

    /// A logger for tests that do not read the log: it writes to /dev/null,
    /// opened once and never closed (a closed descriptor's number is soon
    /// reused, and a logger still holding it would write into someone's socket).
    static let discarding = Logger(debug: false, fd: open("/dev/null", O_WRONLY))

    /// A capture; `debug` as the server's `--debug`. Keep it alive as long as its logger is used.
    init(debug: Bool = false) {
        var template = Array("\(NSTemporaryDirectory())/function-log-XXXXXX".utf8CString)
        fd = mkstemp(&template)
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        logger = Logger(debug: debug, fd: fd)
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Everything written so far.
    var text: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// Each line written, as a JSON object (nil for a line that is not one).
    var lines: [[String: Any]?] {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}
