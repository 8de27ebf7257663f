/// The validity period of an X.509 certificate, read from its DER encoding.
struct CertificateValidity: Equatable {
    /// notBefore, in seconds since 1970 (UTC).
    var notBefore: Int64
    /// notAfter, in seconds since 1970 (UTC).
    var notAfter: Int64

    /// A validity period from its two bounds.
    init(notBefore: Int64, notAfter: Int64) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// Reads `tbsCertificate.validity`; throws when `der` is not an X.509 certificate.
    init(certificate der: [UInt8]) throws {
        var outer = DERReader(der)
        var certificate = try outer.enter(tag: 0x30)
        var tbs = try certificate.enter(tag: 0x30)
        if tbs.peekTag == 0xA0 { _ = try tbs.read() }  // [0] version
        _ = try tbs.read(tag: 0x02)  // serialNumber
        _ = try tbs.read(tag: 0x30)  // signature algorithm
        _ = try tbs.read(tag: 0x30)  // issuer
        var validity = try tbs.enter(tag: 0x30)
        notBefore = try validity.readTime()
        notAfter = try validity.readTime()
    }

    /// Why the certificate is not valid at `now` (seconds since 1970), or nil when it is.
    func problem(at now: Int64) -> String? {
        if now < notBefore { return "is not valid before \(Self.format(notBefore))" }
        if now > notAfter { return "expired on \(Self.format(notAfter))" }
        return nil
    }

    /// `seconds` since 1970 as RFC 3339 UTC, e.g. 2026-11-29T12:00:00Z.
    static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rest = seconds - days * 86400
        let (y, m, d) = civil(fromDays: days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
