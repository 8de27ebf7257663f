import FunctionCore
import Testing

/// The hand-written SHA-256 against the FIPS 180-4 examples and digests from an
/// independent implementation (Python's hashlib) at every padding boundary.
@Suite struct SHA256Tests {
    /// A named input, built when the test runs (so test logs show the name, not the bytes).
    struct Input: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: @Sendable () -> [UInt8]
        var testDescription: String { name }
    }

    static func pattern(_ n: Int) -> Input {
        Input(name: "\(n)Bytes") { (0..<n).map { UInt8(($0 * 7 + 3) % 256) } }
    }

    static func text(_ name: String, _ s: String) -> Input { Input(name: name) { Array(s.utf8) } }

    static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }

    @Test(
        "Digests equal FIPS 180-4 and hashlib's",
        arguments: [
            (text("Empty", ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (text("Abc", "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                text("TwoBlocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (pattern(55), "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
            (pattern(56), "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
            (pattern(63), "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
            (pattern(64), "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
            (pattern(65), "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
            (pattern(119), "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
            (pattern(120), "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"),
            (pattern(1000), "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"),
            (
                Input(name: "MillionA") { [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000) },
                "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
            ),
        ] as [(Input, String)])
    func digest(_ input: Input, _ expected: String) {
        #expect(Self.hex(SHA256.hash(data: input.bytes())) == expected)
    }
}
