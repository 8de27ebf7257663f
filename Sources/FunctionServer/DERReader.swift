/// Just enough DER to walk to a certificate's validity: definite lengths only.
struct DERReader {
    private let bytes: [UInt8]
    private var offset: Int
    private let end: Int

    init(_ bytes: [UInt8]) { self.init(bytes, from: 0, to: bytes.count) }

    private init(_ bytes: [UInt8], from: Int, to: Int) {
        self.bytes = bytes
        self.offset = from
        self.end = to
    }

    /// The tag of the next element, or nil at the end.
    var peekTag: UInt8? { offset < end ? bytes[offset] : nil }

    /// Reads the next element (checking its tag when given); returns its content range.
    mutating func read(tag expected: UInt8? = nil) throws -> Range<Int> {
        let invalid = ServerError("not a DER-encoded X.509 certificate")
        guard offset + 2 <= end else { throw invalid }
        let tag = bytes[offset]
        if let expected, tag != expected { throw invalid }
        var length = Int(bytes[offset + 1])
        var at = offset + 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard (1...4).contains(count), at + count <= end else { throw invalid }
            length = 0
            for _ in 0..<count {
                length = length << 8 | Int(bytes[at])
                at += 1
            }
        }
        guard length <= end - at else { throw invalid }
        offset = at + length
        return at..<(at + length)
    }

    /// Reads a constructed element and returns a reader over its content.
    mutating func enter(tag: UInt8) throws -> DERReader {
        let range = try read(tag: tag)
        return DERReader(bytes, from: range.lowerBound, to: range.upperBound)
    }

    /// Reads a UTCTime or GeneralizedTime (`…Z`) as seconds since 1970.
    mutating func readTime() throws -> Int64 {
        let invalid = ServerError("not a DER-encoded X.509 certificate (bad validity time)")
        guard let tag = peekTag, tag == 0x17 || tag == 0x18 else { throw invalid }
        let range = try read()
        let text = bytes[range]
        guard text.last == UInt8(ascii: "Z") else { throw invalid }
        let digits = text.dropLast()
        guard digits.allSatisfy({ (0x30...0x39).contains($0) }) else { throw invalid }
        let numbers = digits.map { Int64($0 - 0x30) }
        func number(_ i: Int, _ n: Int) -> Int64 { numbers[i..<(i + n)].reduce(0) { $0 * 10 + $1 } }
        var year: Int64
        var i: Int
        if tag == 0x17 {
            guard numbers.count == 12 else { throw invalid }
            year = number(0, 2)
            year += year >= 50 ? 1900 : 2000  // RFC 5280 4.1.2.5.1
            i = 2
        } else {
            guard numbers.count == 14 else { throw invalid }
            year = number(0, 4)
            i = 4
        }
        let month = number(i, 2)
        let day = number(i + 2, 2)
        let hour = number(i + 4, 2)
        let minute = number(i + 6, 2)
        let second = number(i + 8, 2)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
            throw invalid
        }
        return CertificateValidity.days(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
    }
}
