/// A rule a field broke: names the field, the offending value and the rule.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field path, e.g. `spec.mount.path`.
    public var field: String
    /// The offending value as the user wrote it (quoted in messages), or nil when absent.
    public var value: String?
    /// What the rule is, e.g. `must be an absolute path`.
    public var rule: String

    /// Creates a field error.
    public init(_ field: String, _ value: String?, _ rule: String) {
        self.field = field
        self.value = value
        self.rule = rule
    }

    /// `field "value" rule`, or `field rule` when the value is absent.
    public var description: String {
        guard let value else { return "\(field) \(rule)" }
        return "\(field) \(quote(value)) \(rule)"
    }
}

/// The most Unicode scalars of a user value that a message shows.
public let quoteLimit = 200

/// Quotes a user value for a message: JSON-escaped (no raw newline or control
/// character reaches a message) and cut to `quoteLimit` Unicode scalars, with
/// `...` marking the cut. Counting scalars, not characters, bounds values built
/// from one base and a million combining marks too.
public func quote(_ s: String) -> String {
    let scalars = s.unicodeScalars
    guard scalars.count > quoteLimit else { return Value.string(s).canonicalJSON() }
    var shown = String.UnicodeScalarView()
    shown.append(contentsOf: scalars.prefix(quoteLimit - 3))
    return Value.string(String(shown) + "...").canonicalJSON()
}

/// A map key as part of a field path: as it is when it is a plain key (letters,
/// digits, `-`, `_`, `.`, `/`; at most 253 characters), otherwise quoted in brackets.
public func pathKey(_ key: String) -> String {
    let plain =
        !key.isEmpty && key.utf8.count <= 253
        && key.utf8.allSatisfy {
            Rules.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "/")
        }
    return plain ? key : "[\(quote(key))]"
}

/// Collects field errors while a spec is parsed, so that one message can list them all.
public struct Validator {
    /// The errors found so far, in the order found.
    public private(set) var errors: [FieldError] = []

    /// Creates an empty validator.
    public init() {}

    /// Records an error.
    public mutating func fail(_ field: String, _ value: Value?, _ rule: String) {
        errors.append(FieldError(field, value.map(display), rule))
    }

    /// A required object field, or nil (with an error) when absent or of another type.
    public mutating func object(_ v: Value?, _ field: @autoclosure () -> String, required: Bool = true) -> Value? {
        guard let v, !v.isNull else {
            if required { fail(field(), nil, "is required") }
            return nil
        }
        guard v.objectValue != nil else {
            fail(field(), v, "must be an object, not a \(v.typeName)")
            return nil
        }
        return v
    }

    /// A string field, or nil (with an error when required) when absent or of another type.
    public mutating func string(_ v: Value?, _ field: @autoclosure () -> String, required: Bool = true) -> String? {
        guard let v, !v.isNull else {
            if required { fail(field(), nil, "is required") }
            return nil
        }
        guard let s = v.stringValue else {
            fail(field(), v, "must be a string, not a \(v.typeName)")
            return nil
        }
        return s
    }

    /// An integer field within `range`, or nil.
    public mutating func integer(
        _ v: Value?, _ field: @autoclosure () -> String, in range: ClosedRange<Int64>, required: Bool = false
    )
        -> Int64?
    {
        guard let v, !v.isNull else {
            if required { fail(field(), nil, "is required") }
            return nil
        }
        guard let i = v.intValue else {
            fail(field(), v, "must be an integer, not a \(v.typeName)")
            return nil
        }
        guard range.contains(i) else {
            fail(field(), v, "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return i
    }

    /// The name of an object of kind `kind` (a DNS-1123 subdomain), e.g.
    /// `spec.modelCacheRef.name`; optional unless `required`. An invalid name is
    /// returned too, with its error recorded.
    public mutating func name(
        _ v: Value?, _ field: @autoclosure () -> String, of what: String, required: Bool = false
    ) -> String? {
        guard let name = string(v, field(), required: required) else { return nil }
        if !Rules.isDNSSubdomain(name) {
            fail(
                field(), .string(name),
                "is not a valid \(what) name: use a DNS-1123 subdomain (lowercase letters, digits, '-', '.')")
        }
        return name
    }

    /// A map of strings to strings (e.g. matchLabels) whose keys and values are valid labels.
    public mutating func labels(_ v: Value?, _ field: @autoclosure () -> String) -> [String: String] {
        guard let v, !v.isNull else { return [:] }
        guard let o = v.objectValue else {
            fail(field(), v, "must be a map of label names to string values, not a \(v.typeName)")
            return [:]
        }
        var out: [String: String] = [:]
        for (key, value) in o {
            guard let s = value.stringValue else {
                fail(
                    "\(field()).\(pathKey(key))", value, "must be a string (quote it in YAML), not a \(value.typeName)")
                continue
            }
            if !Rules.isLabelKey(key) {
                fail(
                    field(), .string(key),
                    "is not a valid label key: use an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_', '.'"
                )
                continue
            }
            if !Rules.isLabelValue(s) {
                fail(
                    "\(field()).\(pathKey(key))", value,
                    "is not a valid label value: use up to 63 letters, digits, '-', '_', '.', beginning and ending with a letter or digit"
                )
                continue
            }
            out[key] = s
        }
        return out
    }

    private func display(_ v: Value) -> String {
        if case .string(let s) = v { return s }
        return v.canonicalJSON()
    }
}

/// Syntax rules shared by the XRD schemas and the function.
public enum Rules {
    static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    static func isLowerAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A)
    }

    /// A DNS-1123 label: 1..63 lowercase letters, digits and '-', alphanumeric at both ends.
    public static func isDNSLabel(_ s: String) -> Bool {
        let b = s.utf8
        guard (1...63).contains(b.count), isLowerAlnum(b.first!), isLowerAlnum(b.last!) else { return false }
        return b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// A DNS-1123 subdomain as Kubernetes checks object names: at most 253
    /// characters, dot-separated parts of lowercase letters, digits and `-` that
    /// start and end alphanumeric. (Kubernetes does not limit each part to 63.)
    public static func isDNSSubdomain(_ s: String) -> Bool {
        // One pass over the bytes, label by label (this runs for every cluster of every call).
        var s = s
        return s.withUTF8 { bytes in
            var labelLength = 0
            var previous: UInt8 = UInt8(ascii: ".")
            for c in bytes {
                if c == UInt8(ascii: ".") {
                    guard labelLength > 0, isLowerAlnum(previous) else { return false }
                    labelLength = 0
                } else {
                    guard isLowerAlnum(c) || c == UInt8(ascii: "-") else { return false }
                    if labelLength == 0, !isLowerAlnum(c) { return false }
                    labelLength += 1
                }
                previous = c
            }
            return bytes.count <= 253 && labelLength > 0 && isLowerAlnum(previous)
        }
    }

    /// A Kubernetes label value: empty, or up to 63 of [A-Za-z0-9-_.] with alphanumeric ends.
    public static func isLabelValue(_ s: String) -> Bool { FunctionCore.isLabelValue(s) }

    /// A Kubernetes label key: an optional DNS subdomain prefix and '/', then a non-empty label-value-like name.
    public static func isLabelKey(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return !s.isEmpty && isLabelValue(s)
        case 2: return isDNSSubdomain(String(parts[0])) && !parts[1].isEmpty && isLabelValue(String(parts[1]))
        default: return false
        }
    }

    /// A Secret data key: 1..253 of [-._a-zA-Z0-9], not "." or "..".
    public static func isSecretKey(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...253).contains(b.count), s != ".", s != ".." else { return false }
        return b.allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }
}

/// Rules for a mount path in consuming pods.
///
/// Besides being absolute and normalised, a mount path must not hide what a
/// container needs or what the function mounts itself. Reserved, with
/// everything under them: `/bin`, `/boot`, `/dev` (the function mounts
/// `/dev/shm`), `/etc` (kubelet's hosts and resolv.conf), `/lib`, `/lib32`,
/// `/lib64`, `/libx32`, `/proc`, `/run`, `/sbin`, `/sys`, `/usr`, `/var/run`
/// (service account tokens). Reserved as they are, since a read-only cache over
/// them hides a writable directory engines use, while paths beneath them are
/// fine: `/home`, `/opt`, `/root`, `/tmp`, `/var`. The XRD has the same lists.
public enum MountPath {
    /// Directories that no mount path may equal or lie beneath.
    public static let reservedTrees = [
        "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys",
        "/usr", "/var/run",
    ]
    /// Directories that no mount path may equal.
    public static let reservedExact = ["/home", "/opt", "/root", "/tmp", "/var"]

    /// Why `p` is not a usable mount path, or nil when it is one.
    public static func problem(_ p: String) -> String? {
        guard p.hasPrefix("/") else { return "must be an absolute path starting with '/'" }
        guard p != "/" else { return "must not be '/': mounting over the root would hide the container's files" }
        guard p.utf8.count <= 1024 else { return "must be at most 1024 bytes long" }
        guard !p.contains(":") else { return "must not contain ':'" }
        guard !p.contains("$") else {
            return "must not contain '$': Kubernetes expands $(VAR) in command and args, where the path is passed"
        }
        guard !p.contains("//") else { return "must be normalised: no '//'" }
        guard !p.hasSuffix("/") else { return "must be normalised: no trailing '/'" }
        let segments = p.split(separator: "/")
        guard !segments.contains("..") else { return "must be normalised: no '..'" }
        guard !segments.contains(".") else { return "must be normalised: no '.' segments" }
        guard !p.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            return "must not contain control characters"
        }
        if let tree = reservedTrees.first(where: { p == $0 || p.hasPrefix($0 + "/") }) {
            let why =
                tree == "/dev" ? "the function mounts /dev/shm there, and containers need /dev" : "a system directory"
            return "is reserved: nothing may be mounted at or under \(tree) (\(why))"
        }
        if reservedExact.contains(p) {
            return
                "is reserved: a read-only cache at \(p) would hide a directory containers write to; use a path beneath it"
        }
        return nil
    }
}
