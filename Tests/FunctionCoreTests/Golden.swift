import Foundation
import Testing

@testable import FunctionCore

/// Whole-response golden files: `Golden/<suite>/<CaseName>.json`.
///
/// A mismatch fails with a line diff. Re-recording is an explicit opt-in:
/// `RECORD_GOLDENS=1 swift test` rewrites the files and still fails, so a
/// recording can never pass CI unnoticed.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(
        _ response: RunResponse, suite: String, name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let actual = response.canonicalValue.prettyJSON() + "\n"
        let url = directory.appendingPathComponent(suite).appendingPathComponent("\(name).json")
        if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
            try? FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? actual.write(to: url, atomically: true, encoding: .utf8)
            Issue.record(
                "Recorded \(suite)/\(name).json (RECORD_GOLDENS=1 always fails the run)", sourceLocation: sourceLocation
            )
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("No golden file \(url.path); record with RECORD_GOLDENS=1", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            Issue.record(
                "\(suite)/\(name) differs from its golden file:\n\(lineDiff(expected, actual))",
                sourceLocation: sourceLocation)
        }
    }

    /// A compact diff: the first differing lines with their numbers.
    static func lineDiff(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        for i in 0..<max(x.count, y.count) where out.count < 40 {
            let l = i < x.count ? String(x[i]) : "<none>"
            let r = i < y.count ? String(y[i]) : "<none>"
            if l != r { out.append("line \(i + 1):\n  - \(l)\n  + \(r)") }
        }
        return out.joined(separator: "\n")
    }
}
