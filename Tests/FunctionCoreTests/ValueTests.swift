import Testing

@testable import FunctionCore

/// The core value type: canonical JSON and typed access.
@Suite struct ValueTests {
    @Test("Canonical JSON sorts keys at every depth and keeps integers integral")
    func canonicalJSON() {
        let v: Value = ["b": 1, "a": ["d": 2.5, "c": [true, .null, "x\"y\n"]]]
        #expect(v.canonicalJSON() == #"{"a":{"c":[true,null,"x\"y\n"],"d":2.5},"b":1}"#)
    }

    @Test("Keys sort by UTF-8 bytes, as Go and protobuf order map keys")
    func byteOrder() {
        let v: Value = ["b": 1, "B": 2, "é": 3, "a": 4]
        #expect(v.canonicalJSON() == #"{"B":2,"a":4,"b":1,"é":3}"#)
    }

    @Test("Control characters are escaped so a log line stays one line")
    func controlCharacters() {
        #expect(Value.string("a\u{01}b\tc").canonicalJSON() == #""a\u0001b\tc""#)
    }

    @Test("Typed accessors answer nil for the wrong type instead of guessing")
    func accessors() {
        let v: Value = ["n": 3, "s": "3", "d": 3.0, "half": 3.5]
        #expect(v["n"]?.intValue == 3)
        #expect(v["d"]?.intValue == 3)
        #expect(v["half"]?.intValue == nil)
        #expect(v["s"]?.intValue == nil)
        #expect(v["n"]?.stringValue == nil)
        #expect(v[path: "missing", "deeper"] == nil)
    }

    @Test("Setting a field through the subscript updates nested objects")
    func setField() {
        var v: Value = ["status": ["a": 1]]
        v["status"]?["b"] = 2
        #expect(v == ["status": ["a": 1, "b": 2]])
    }
}
