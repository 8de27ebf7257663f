import Testing

@testable import FunctionCore

/// `Fields` keeps an object's keys sorted by UTF-8 bytes whatever order they
/// arrive in, with the last of a repeated key winning (protobuf map semantics).
@Suite struct FieldsTests {
    @Test("Keys come out in UTF-8 byte order whatever order they go in")
    func ordering() {
        let keys = ["kind", "apiVersion", "Z", "metadata", "é", "a.b", "a", "spec", "status", "_x", "a-b", "aa"]
        var expected = keys.sorted(by: utf8Less)
        #expect(expected.first == "Z" && expected.last == "é", "upper case before lower, non-ASCII last")
        // Every rotation and the reverse, through each way of building fields.
        var orders = (0..<keys.count).map { Array(keys[$0...] + keys[..<$0]) }
        orders.append(keys.reversed())
        for order in orders {
            #expect(Fields(lastWins: order.map { ($0, Value.string($0)) }).keys == expected)
            var built = Fields()
            for k in order { built[k] = .string(k) }
            #expect(built.keys == expected)
            var b = Fields.Builder()
            for k in order { b.append(k, .string(k)) }
            #expect(b.build().keys == expected)
        }
        // More than the insertion-sort threshold.
        let many = (0..<300).map { "k\(($0 * 7919) % 300)" }
        expected = Array(Set(many)).sorted(by: utf8Less)
        #expect(Fields(lastWins: many.map { ($0, Value.null) }).keys == expected)
    }

    @Test("A repeated key keeps its last value; removal and replacement work")
    func lastWins() {
        let f = Fields(lastWins: [("b", 1), ("a", 1), ("b", 2), ("c", 1), ("b", 3)] as [(String, Value)])
        #expect(f.keys == ["a", "b", "c"])
        #expect(f["b"] == 3)
        var g = f
        g["b"] = nil
        g["a"] = "x"
        g["0"] = .null
        #expect(g.keys == ["0", "a", "c"] && g["a"] == "x" && g["b"] == nil)
        #expect(f["b"] == 3, "copies are independent")
        let big = Fields(lastWins: (0..<40).flatMap { i in [("k\(i % 20)", Value.int(Int64(i)))] })
        #expect(big.count == 20 && big["k3"] == 23)
    }

    @Test("Equal objects are equal and hash equally however they were built")
    func equality() {
        let a: Value = ["x": 1, "y": ["z": true]]
        var b: Value = ["y": ["z": true]]
        b["x"] = 1
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(a != ["x": 1, "y": ["z": false]])
    }

    @Test("DNS subdomain names follow Kubernetes' rule, checked against a reference")
    func dnsSubdomain() {
        func reference(_ s: String) -> Bool {
            s.utf8.count <= 253
                && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                    let b = Array(label.utf8)
                    func lowerAlnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) }
                    // k8s.io/apimachinery IsDNS1123Subdomain: no length limit per part, only 253 in all.
                    return !b.isEmpty && lowerAlnum(b.first!) && lowerAlnum(b.last!)
                        && b.allSatisfy { lowerAlnum($0) || $0 == 0x2D }
                }
        }
        var cases = [
            "", ".", "a", "a.", ".a", "a..b", "a.b", "fast-rwx", "-a", "a-", "a.-b", "a-.b", "A", "a_b", "é",
            "gpu-east.example.com", String(repeating: "a", count: 63), String(repeating: "a", count: 64),
            String(repeating: "a.", count: 126) + "a", String(repeating: "a.", count: 127) + "a", "0", "0-0", "a b",
        ]
        // Every string of up to 3 characters over a small alphabet.
        let alphabet = ["a", "0", "-", ".", "B"]
        var level = [""]
        for _ in 0..<3 {
            level = level.flatMap { p in alphabet.map { p + $0 } }
            cases += level
        }
        for s in cases {
            #expect(Rules.isDNSSubdomain(s) == reference(s), "\(s.debugDescription)")
        }
    }
}
