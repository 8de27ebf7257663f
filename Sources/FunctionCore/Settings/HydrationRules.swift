/// The syntax rules of the hydration settings (hydrator.md §5). Each answers
/// the rule a value breaks, as the message states it, or nil when it is valid.
public enum HydrationRules {
    /// The rule `endpoint` states.
    public static let endpointRule =
        "must be an http:// or https:// URL: a host, an optional port and path, no user info, query or fragment"
    /// The rule `httpsProxy` states.
    public static let proxyRule =
        "must be an http:// or https:// proxy URL: a host and an optional port, no user info, path, query or fragment"
    /// The rule a `noProxy` entry states.
    public static let noProxyRule =
        "must be a host name, a domain suffix such as .example.com, an IP address or CIDR range, with an optional "
        + "port, or *"
    /// The rule an image pull Secret's name states.
    public static let secretNameRule =
        "is not a valid Secret name: use a DNS-1123 subdomain (lowercase letters, digits, '-', '.')"
    /// The rule a plain-HTTP registry states.
    public static let registryRule =
        "must be a registry host with an optional port (host or host:port; lowercase letters, digits, '-', '.')"
    /// The rule a resource quantity states.
    public static let quantityRule = "must be a Kubernetes quantity such as 500m, 2, 1Gi or 512Mi"
    /// The rule a deadline states.
    public static let deadlineRule =
        "must be a duration such as 90m, 24h, 1h30m or 7d (units s, m, h, d), or a number of seconds, from 10m to 7d"

    /// Why `s` is not a usable hub endpoint (`HF_ENDPOINT`), or nil.
    public static func endpointProblem(_ s: String) -> String? {
        guard let (authority, path) = splitURL(s), isHostPort(authority, portRequired: false),
            path.utf8.allSatisfy(isPathByte)
        else { return endpointRule }
        return nil
    }

    /// Why `s` is not a usable proxy URL (`HTTPS_PROXY`), or nil. User info is
    /// refused: a password in it would be written into every Job manifest.
    public static func proxyProblem(_ s: String) -> String? {
        guard let (authority, path) = splitURL(s), isHostPort(authority, portRequired: false),
            path.isEmpty || path == "/"
        else { return proxyRule }
        return nil
    }

    /// Why `s` is not a usable `NO_PROXY` entry, or nil.
    public static func noProxyProblem(_ s: String) -> String? {
        guard s != "*" else { return nil }
        let b = s.utf8
        guard (1...253).contains(b.count),
            b.allSatisfy({
                Rules.isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":")
                    || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]")
            }), b.contains(where: Rules.isAlnum)
        else { return noProxyRule }
        return nil
    }

    /// Why `s` is not a Secret name, or nil.
    public static func secretNameProblem(_ s: String) -> String? {
        Rules.isDNSSubdomain(s) ? nil : secretNameRule
    }

    /// Why `s` is not a registry `host[:port]`, or nil.
    public static func registryProblem(_ s: String) -> String? {
        isHostPort(s, portRequired: false, lowercase: true) ? nil : registryRule
    }

    /// Why `s` is not a Kubernetes quantity, or nil: a decimal number with an
    /// optional binary (`Ki`…`Ei`), decimal (`m`, `k`, `M`…`E`) or exponent suffix.
    public static func quantityProblem(_ s: String) -> String? {
        var rest = Substring(s)
        if rest.hasPrefix("+") { rest = rest.dropFirst() }
        let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let suffix = rest.dropFirst(number.count)
        let digits = number.filter { $0 != "." }
        guard !digits.isEmpty, number.filter({ $0 == "." }).count <= 1, number.count <= 30 else { return quantityRule }
        let suffixes: Set<Substring> = ["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        if suffixes.contains(suffix) { return nil }
        // An exponent: e or E, an optional sign, digits.
        var e = suffix
        guard e.first == "e" || e.first == "E" else { return quantityRule }
        e = e.dropFirst()
        if e.first == "+" || e.first == "-" { e = e.dropFirst() }
        return !e.isEmpty && e.count <= 3 && e.allSatisfy({ $0.isASCII && $0.isNumber }) ? nil : quantityRule
    }

    /// The amount a valid quantity stands for (`500m` is 0.5, `1Ki` 1024), to compare two of them.
    public static func quantityValue(_ s: String) -> Double? {
        guard quantityProblem(s) == nil else { return nil }
        let number = s.prefix { $0 == "+" || ($0.isASCII && ($0.isNumber || $0 == ".")) }
        let suffix = s.dropFirst(number.count)
        guard let n = Double(number) else { return nil }
        let binary = ["Ki": 1.0, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6]
        let decimal: [Substring: Double] = ["m": -1, "": 0, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6]
        if let p = binary[String(suffix)] { return n * pow2(10 * p) }
        if let p = decimal[suffix] { return n * pow10(3 * p) }
        return Double(s)  // an exponent: Double reads 1e3 as Kubernetes does
    }

    private static func pow2(_ e: Double) -> Double { (0..<Int(e)).reduce(1.0) { r, _ in r * 2 } }
    private static func pow10(_ e: Double) -> Double {
        e < 0 ? 1 / pow10(-e) : (0..<Int(e)).reduce(1.0) { r, _ in r * 10 }
    }

    /// Seconds in a duration such as `90m`, `1h30m`, `7d` or `3600`; nil when malformed.
    public static func durationSeconds(_ s: String) -> Int64? {
        if let seconds = Int64(s), seconds >= 0 { return seconds }
        var total: Int64 = 0
        var number: Int64? = nil
        for c in s.utf8 {
            if c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                let (n, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, n < 1_000_000_000 else { return nil }
                number = n + Int64(c - UInt8(ascii: "0"))
                continue
            }
            let unit: Int64
            switch c {
            case UInt8(ascii: "s"): unit = 1
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "h"): unit = 3_600
            case UInt8(ascii: "d"): unit = 86_400
            default: return nil
            }
            guard let n = number else { return nil }
            // Many parts could add up past Int64 (a setting is user input): that is no duration.
            let (sum, overflow) = total.addingReportingOverflow(n * unit)
            guard !overflow else { return nil }
            (total, number) = (sum, nil)
        }
        return number == nil && !s.isEmpty ? total : nil
    }

    /// `scheme://authority/path` split into authority and path, for http and
    /// https URLs without query, fragment, user info, spaces or control characters.
    static func splitURL(_ s: String) -> (authority: Substring, path: Substring)? {
        guard s.utf8.count <= 2048 else { return nil }
        let rest: Substring
        if s.hasPrefix("https://") {
            rest = s.dropFirst(8)
        } else if s.hasPrefix("http://") {
            rest = s.dropFirst(7)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" }
        return (authority, rest.dropFirst(authority.count))
    }

    /// Whether `s` is `host` or `host:port`: a DNS name (lowercase only when
    /// `lowercase`), an IPv4 address or a bracketed IPv6 address; a port 1–65535.
    static func isHostPort<S: StringProtocol>(_ s: S, portRequired: Bool, lowercase: Bool = false) -> Bool {
        var host = Substring(s)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty,
                inside.utf8.allSatisfy({ $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") || isHex($0) })
            else { return false }
            let after = host[host.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return false }
            port = after.isEmpty ? nil : after.dropFirst()
            host = "x"
        } else if let colon = host.lastIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if let port {
            guard let n = Int(port), (1...65_535).contains(n), port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return false
            }
        } else if portRequired {
            return false
        }
        let name = lowercase ? String(host) : host.lowercased()
        return Rules.isDNSSubdomain(name)
    }

    private static func isHex(_ c: UInt8) -> Bool {
        Rules.isAlnum(c) && (c <= UInt8(ascii: "9") || (c | 0x20) <= UInt8(ascii: "f"))
    }

    /// A byte allowed in a URL path: unreserved, sub-delimiters, `:`, `@`, `/` and
    /// `%`; not `$`, which Kubernetes would expand in `$(VAR)` of an env value.
    private static func isPathByte(_ c: UInt8) -> Bool {
        Rules.isAlnum(c) || "-._~/%!&'()*+,;=:@".utf8.contains(c)
    }
}
