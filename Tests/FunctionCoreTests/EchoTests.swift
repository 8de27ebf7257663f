import Testing

@testable import FunctionCore

/// What a cluster wrote reaches results, events and status bounded and escaped (lifecycle.md §7 rule 8).
struct EchoTests {
    @Test("Plain text a cluster wrote is passed on exactly as written")
    func plain() {
        let message = "Job has reached the specified backoff limit: exit code 10 (¿dónde está el modelo?)"
        #expect(echo(message) == message)
        #expect(echo("") == "")
    }

    @Test(
        "Control characters are escaped, so no raw newline or terminal escape reaches a message",
        arguments: [
            ("line one\nline two", "line one\\nline two"),
            ("\u{1B}[31mred\u{1B}[0m", "\\u{1b}[31mred\\u{1b}[0m"),
            ("tab\there\r", "tab\\there\\r"),
            ("nul\u{0}del\u{7F}c1\u{85}", "nul\\u{0}del\\u{7f}c1\\u{85}"),
        ])
    func escaped(_ raw: String, _ shown: String) {
        #expect(echo(raw) == shown)
        #expect(!echo(raw).unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }

    @Test("A 100 KB string is cut to the limit, with the cut marked")
    func bounded() {
        let huge = String(repeating: "x", count: 100_000)
        let shown = echo(huge)
        #expect(shown.unicodeScalars.count == echoLimit)
        #expect(shown.hasSuffix("..."))
        #expect(shown.hasPrefix(String(repeating: "x", count: echoLimit - 3)))
    }

    @Test("Escapes count toward the limit, and one is never cut in half")
    func boundedEscapes() {
        let shown = echo(String(repeating: "\n", count: 100_000))
        #expect(shown.unicodeScalars.count <= echoLimit)
        #expect(shown.hasSuffix("\\n..."))
    }

    @Test("One character of a million combining marks is bounded too")
    func combining() {
        let s = "e" + String(repeating: "\u{301}", count: 1_000_000)
        #expect(echo(s).unicodeScalars.count <= echoLimit)
    }
}
