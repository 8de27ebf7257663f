/// Rewrites a serialized RunFunctionRequest into other valid encodings of the
/// same request, as other protobuf writers (or hostile clients) may send it:
/// singular message fields split in two (they merge), scalar and map-entry
/// duplicates before the real one (the last wins), map entries with the value
/// before the key, unknown fields of every wire type, and over-long varint
/// lengths. Test support for the differential checks (tests and fuzzer): both
/// decoders must read every variant as they read the original.
public enum NonCanonicalEncoding {
    /// A field of a message as parsed by the schema below.
    indirect enum Field {
        case varint(Int, UInt64)
        case fixed64(Int, UInt64)
        case bytes(Int, [UInt8])
        case message(Int, [Field])

        var number: Int {
            switch self {
            case .varint(let n, _), .fixed64(let n, _), .bytes(let n, _), .message(let n, _): return n
            }
        }
    }

    /// The message types of a request (map entries included), by what the rewriter needs.
    enum Kind {
        case request, meta, state, resourceEntry, resource, bytesEntry, resourcesEntry, resources
        case credentialsEntry, credentials, credentialData, structBody, structEntry, value, list

        /// The message kind of a length-delimited field, nil for strings and bytes.
        func child(_ field: Int) -> Kind? {
            switch (self, field) {
            case (.request, 1): return .meta
            case (.request, 2), (.request, 3): return .state
            case (.request, 4), (.request, 5), (.resource, 1), (.value, 5): return .structBody
            case (.request, 6), (.request, 8): return .resourcesEntry
            case (.request, 7): return .credentialsEntry
            case (.state, 1), (.resourceEntry, 2), (.resources, 1): return .resource
            case (.state, 2): return .resourceEntry
            case (.resource, 2), (.credentialData, 1): return .bytesEntry
            case (.resourcesEntry, 2): return .resources
            case (.credentialsEntry, 2): return .credentials
            case (.credentials, 1): return .credentialData
            case (.structBody, 1): return .structEntry
            case (.structEntry, 2), (.list, 1): return .value
            case (.value, 6): return .list
            default: return nil
            }
        }

        /// Whether `field` is a singular message field (two occurrences merge).
        func isSingularMessage(_ field: Int) -> Bool {
            switch (self, field) {
            case (.request, 1...5), (.state, 1), (.resource, 1), (.credentials, 1), (.value, 5...6): return true
            case (.resourceEntry, 2), (.resourcesEntry, 2), (.credentialsEntry, 2), (.structEntry, 2): return true
            default: return false
            }
        }

        var isMapEntry: Bool {
            switch self {
            case .resourceEntry, .bytesEntry, .resourcesEntry, .credentialsEntry, .structEntry: return true
            default: return false
            }
        }
    }

    /// A deterministic generator (SplitMix64), so a failing seed reproduces.
    struct Random {
        var state: UInt64
        /// The next 64 random bits.
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// True `percent` times in a hundred.
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
        /// A number in `0..<n`.
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    /// Another encoding of the request in `bytes` (which must be a valid
    /// request), chosen by `seed`; nil when the bytes do not parse.
    public static func variant(of bytes: [UInt8], seed: UInt64) -> [UInt8]? {
        guard let fields = parse(bytes[...], as: .request) else { return nil }
        var random = Random(state: seed)
        var out: [UInt8] = []
        for f in rewrite(fields, kind: .request, &random) { write(f, &random, into: &out) }
        return out
    }

    // MARK: parsing

    /// The fields of a message of `kind`, nested messages parsed too.
    static func parse(_ b: ArraySlice<UInt8>, as kind: Kind) -> [Field]? {
        var fields: [Field] = []
        var i = b.startIndex
        func varint() -> UInt64? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while i < b.endIndex, shift < 64 {
                let c = b[i]
                i += 1
                v |= UInt64(c & 0x7F) << shift
                if c < 0x80 { return v }
                shift += 7
            }
            return nil
        }
        while i < b.endIndex {
            guard let tag = varint() else { return nil }
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0:
                guard let v = varint() else { return nil }
                fields.append(.varint(number, v))
            case 1:
                guard b.endIndex - i >= 8 else { return nil }
                var v: UInt64 = 0
                for k in 0..<8 { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
                i += 8
                fields.append(.fixed64(number, v))
            case 2:
                guard let n = varint(), n <= UInt64(b.endIndex - i) else { return nil }
                let body = b[i..<(i + Int(n))]
                i += Int(n)
                if let child = kind.child(number) {
                    guard let inner = parse(body, as: child) else { return nil }
                    fields.append(.message(number, inner))
                } else {
                    fields.append(.bytes(number, Array(body)))
                }
            default: return nil  // canonical input has no groups or fixed32
            }
        }
        return fields
    }

    // MARK: rewriting

    /// The fields of a message of `kind`, rewritten (recursively) into an equivalent encoding.
    static func rewrite(_ fields: [Field], kind: Kind, _ r: inout Random) -> [Field] {
        var out: [Field] = []
        for f in fields {
            guard case .message(let n, let inner) = f, let child = kind.child(n) else {
                // A duplicate of a singular scalar before it: the last wins.
                if r.chance(20), let junk = junkScalar(kind, f) { out.append(junk) }
                out.append(f)
                continue
            }
            let body = rewrite(inner, kind: child, &r)
            if kind.isSingularMessage(n), r.chance(30), let (first, second) = split(body, kind: child, &r) {
                out.append(.message(n, first))
                out.append(.message(n, second))
            } else if !kind.isSingularMessage(n), child.isMapEntry, r.chance(15) {
                // An earlier entry with the same key and another value: the later entry replaces it.
                let key = body.filter { $0.number == 1 }.suffix(1)
                out.append(.message(n, Array(key) + [.message(2, [])]))
                out.append(.message(n, body))
            } else {
                out.append(.message(n, body))
            }
        }
        if kind.isMapEntry, r.chance(40) {
            // Value before key (each kept in its order: later keys win, values merge in order).
            out = out.filter { $0.number == 2 } + out.filter { $0.number != 2 }
        }
        // Unknown fields of every wire type, anywhere.
        if r.chance(25) { out.insert(unknown(&r), at: r.below(out.count + 1)) }
        return out
    }

    /// Two messages that merge into `body`.
    static func split(_ body: [Field], kind: Kind, _ r: inout Random) -> ([Field], [Field])? {
        if body.count >= 2 {
            let k = 1 + r.below(body.count - 1)
            // Keep repeated fields in order: a prefix and the rest.
            return (Array(body[..<k]), Array(body[k...]))
        }
        // One nested singular message (a Value's struct or list): split inside it.
        if body.count == 1, case .message(let n, let inner) = body[0], kind.isSingularMessage(n),
            let child = kind.child(n), let (a, b) = split(inner, kind: child, &r)
        {
            return ([.message(n, a)], [.message(n, b)])
        }
        return nil
    }

    /// A different value for a singular scalar field, or nil where a duplicate would change the meaning.
    static func junkScalar(_ kind: Kind, _ f: Field) -> Field? {
        switch (kind, f) {
        case (.meta, .bytes(1, _)): return .bytes(1, Array("junk".utf8))
        case (.resource, .varint(3, _)): return .varint(3, 2)
        case (_, .bytes(1, _)) where kind.isMapEntry: return .bytes(1, Array("junk-key".utf8))
        case (.value, _):
            // A oneof: any earlier kind is replaced by the last one.
            return .fixed64(2, 1.5.bitPattern)
        default: return nil
        }
    }

    /// An unknown field of a random wire type.
    static func unknown(_ r: inout Random) -> Field {
        let number = 20 + r.below(2000)
        switch r.below(4) {
        case 0: return .varint(number, r.next())
        case 1: return .fixed64(number, r.next())
        case 2: return .bytes(number, Array("unknown".utf8))
        default: return .message(-number, [.varint(1, 7), .bytes(2, [1, 2, 3])])  // a group (negative marks it)
        }
    }

    // MARK: writing

    /// Appends the encoding of `f`, lengths sometimes over-long.
    static func write(_ f: Field, _ r: inout Random, into out: inout [UInt8]) {
        func varint(_ v: UInt64, overlong: Bool = false) {
            var v = v
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            if overlong {
                // The same number in one more byte: valid, and not what a canonical writer emits.
                out.append(UInt8(v) | 0x80)
                out.append(0)
            } else {
                out.append(UInt8(v))
            }
        }
        switch f {
        case .varint(let n, let v):
            varint(UInt64(n) << 3)
            varint(v)
        case .fixed64(let n, let v):
            varint(UInt64(n) << 3 | 1)
            for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
        case .bytes(let n, let b):
            varint(UInt64(n) << 3 | 2)
            varint(UInt64(b.count), overlong: r.chance(10))
            out += b
        case .message(let n, let inner) where n < 0:
            varint(UInt64(-n) << 3 | 3)
            for g in inner { write(g, &r, into: &out) }
            varint(UInt64(-n) << 3 | 4)
        case .message(let n, let inner):
            var body: [UInt8] = []
            for g in inner { write(g, &r, into: &body) }
            varint(UInt64(n) << 3 | 2)
            varint(UInt64(body.count), overlong: r.chance(10))
            out += body
        }
    }
}
