import Foundation
import FunctionCore
import Testing

@testable import FunctionYAML

/// The YAML layer over libyaml: core-schema resolution, canonical emission, errors.
@Suite struct YAMLTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every YAML file tracked in the repository (examples, apis, package, scenarios…).
    static func repositoryYAMLFiles() -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for dir in ["apis", "examples", "package", "Tests/e2e"] {
            guard let e = fm.enumerator(atPath: root.appendingPathComponent(dir).path) else { continue }
            for case let path as String in e where path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
                out.append("\(dir)/\(path)")
            }
        }
        if fm.fileExists(atPath: root.appendingPathComponent("crossplane.yaml").path) { out.append("crossplane.yaml") }
        return out.sorted()
    }

    @Test("Every YAML file in the repository round-trips through parse, emit and parse")
    func repositoryRoundTrip() throws {
        let files = Self.repositoryYAMLFiles()
        #expect(files.count >= 4)
        for file in files {
            let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
            let docs = try YAML.parseStream(text)
            let emitted = YAML.emit(docs)
            #expect(try YAML.parseStream(emitted) == docs, "\(file)")
            #expect(YAML.emit(try YAML.parseStream(emitted)) == emitted, "\(file): emission is canonical")
        }
    }

    @Test("Plain scalars resolve by the YAML 1.2 core schema; quoted scalars stay strings")
    func resolution() throws {
        let doc = try YAML.parseDocument(
            """
            a: true
            b: "true"
            c: 1
            d: "1"
            e: null
            f: "null"
            g: ""
            h:
            i: 0777
            j: "0777"
            k: 1e3
            l: "1e3"
            m: ~
            n: "~"
            o: yes
            p: 0o17
            q: 0x1F
            r: -2.5
            s: .inf
            t: 'single'
            u: 12:30
            """)
        #expect(doc["a"] == .bool(true))
        #expect(doc["b"] == "true")
        #expect(doc["c"] == .int(1))
        #expect(doc["d"] == "1")
        #expect(doc["e"] == .null)
        #expect(doc["f"] == "null")
        #expect(doc["g"] == "")
        #expect(doc["h"] == .null)
        #expect(doc["i"] == .int(777), "YAML 1.2: a leading zero is decimal")
        #expect(doc["j"] == "0777")
        #expect(doc["k"] == .double(1000))
        #expect(doc["l"] == "1e3")
        #expect(doc["m"] == .null)
        #expect(doc["n"] == "~")
        #expect(doc["o"] == "yes", "YAML 1.2: yes is a string")
        #expect(doc["p"] == .int(15))
        #expect(doc["q"] == .int(31))
        #expect(doc["r"] == .double(-2.5))
        #expect(doc["s"] == .double(.infinity))
        #expect(doc["t"] == "single")
        #expect(doc["u"] == "12:30")
    }

    @Test(
        "Strings that would read back as other types are quoted, and survive a round trip",
        arguments: [
            "true", "false", "True", "1", "-1", "0777", "0o17", "0x1F", "1e3", ".5", "null", "~", "", "NULL", ".inf",
            ".nan",
            "yes", "no", "on", "12:30", "a: b", "# not a comment", "- item", "key:", " leading", "trailing ", "@at",
            "`tick`",
            "line one\nline two\n", "trailing spaces \nnext", "tab\there", "emoji 🚀", "\"quoted\"", "'single'",
            "{a: 1}", "[1]",
            "*alias", "&anchor", "!tag", "%percent", "multi\n\nblank lines", "ends without newline\nx", "\u{01}control",
        ])
    func trickyStrings(_ s: String) throws {
        let doc: Value = ["k": .string(s), .init(stringLiteral: s): "as key"]
        let text = YAML.emit(doc)
        #expect(try YAML.parseDocument(text) == doc, "emitted:\n\(text)")
    }

    @Test("Keys are emitted sorted by UTF-8 bytes, documents separated by ---")
    func canonicalEmission() {
        let text = YAML.emit([["b": 1, "a": ["z": true, "y": .null], "B": []], ["x": "1"]])
        #expect(
            text == """
                ---
                B: []
                a:
                  y: null
                  z: true
                b: 1
                ---
                x: "1"

                """)
    }

    @Test("Numbers keep their type: integers stay integers")
    func numbers() throws {
        let v: Value = ["i": 3, "big": .int(9_007_199_254_740_993), "d": 2.5, "whole": 2.0, "neg": -0.125]
        #expect(try YAML.parseDocument(YAML.emit(v)) == v)
    }

    @Test("A syntax error reports line and column")
    func syntaxError() {
        #expect {
            try YAML.parseDocument("a: 1\nb: [1, 2\nc: 3\n")
        } throws: { error in
            guard let e = error as? YAMLError else { return false }
            return e.line == 3 && e.column >= 1 && e.description.hasPrefix("line 3, column")
        }
        #expect {
            try YAML.parseDocument("a: 1\n  b: 2\n")
        } throws: { error in (error as? YAMLError)?.line == 2 }
    }

    @Test("Duplicate keys are an error, not a silent overwrite")
    func duplicates() {
        #expect(throws: YAMLError.self) { try YAML.parseDocument("a: 1\na: 2\n") }
    }

    @Test("Anchors and aliases expand; an alias bomb is refused")
    func aliases() throws {
        let doc = try YAML.parseDocument("base: &b {x: 1}\nuse: *b\n")
        #expect(doc["use"] == ["x": 1])
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        var prev = "a"
        for name in ["b", "c", "d", "e", "f", "g"] {
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(prev)", count: 10).joined(separator: ", ") + "]\n"
            prev = name
        }
        #expect(throws: YAMLError.self) { try YAML.parseDocument(bomb) }
    }

    @Test("Hostile nesting is an error with a position, not a stack overflow")
    func deepNesting() throws {
        #expect(throws: YAMLError.self) { try YAML.parseDocument(String(repeating: "[", count: 100_000)) }
        #expect(throws: YAMLError.self) { try YAML.parseDocument(String(repeating: "{a: ", count: 5_000)) }
        #expect(
            try YAML.parseDocument(String(repeating: "[", count: 200) + String(repeating: "]", count: 200)) != .null)
    }

    @Test("Streams: several documents, empty documents, and an empty stream")
    func streams() throws {
        #expect(try YAML.parseStream("") == [])
        #expect(try YAML.parseStream("---\na: 1\n---\nb: 2\n") == [["a": 1], ["b": 2]])
        #expect(try YAML.parseStream("---\n---\na: 1\n") == [.null, ["a": 1]])
    }
}
