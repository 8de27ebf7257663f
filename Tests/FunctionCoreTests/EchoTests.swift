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

/// The eight-bytes-at-a-time check agrees with the scalar-by-scalar definition on every kind of byte.
struct EchoFastPathTests {
    /// The definition: control characters escaped, at most `echoLimit` scalars.
    static func plain(_ s: String) -> Bool {
        s.unicodeScalars.count <= echoLimit
            && !s.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    @Test("Every byte value at every position of an eight-byte word is judged as the definition judges it")
    func everyByte() {
        let printable = Array("abcdefghijklmnopqrstuvwxyz0123456789-./:@_~".unicodeScalars)
        for length in [1, 7, 8, 9, 15, 16, 17, 40] {
            for position in 0..<length {
                for value in [
                    0x00, 0x09, 0x0A, 0x1B, 0x1F, 0x20, 0x21, 0x7E, 0x7F, 0x80, 0x85, 0x9F, 0xA0, 0xE9, 0x301,
                ] {
                    var scalars = (0..<length).map { printable[$0 % printable.count] }
                    scalars[position] = Unicode.Scalar(UInt32(value))!
                    var view = String.UnicodeScalarView()
                    view.append(contentsOf: scalars)
                    let s = String(view)
                    #expect(
                        (echo(s) == s) == Self.plain(s),
                        "length \(length), U+\(String(value, radix: 16)) at \(position)")
                }
            }
        }
    }
}
