import FunctionCore

import struct FoundationEssentials.Data

/// Decodes a serialized RunFunctionRequest into the core model, reading what
/// swift-protobuf reads (proto3 semantics: a repeated message field merges
/// into the one before it, the last scalar wins, a later map entry replaces an
/// earlier one with the same key, unknown fields are skipped, map entries may
/// hold their value before their key).
///
/// Why not swift-protobuf: decoding into `Google_Protobuf_Struct` and then
/// converting to `Value` took 38 ms for a 370 KB request (100 clusters, all
/// hydrating), most of it allocating and copying intermediate messages. And
/// why lazily: the composers read a handful of fields of each observed object
/// (status conditions, the remote object's name and phase) out of thousands.
/// So every object (`google.protobuf.Struct`) is kept as a byte range of a
/// copy of the request, and `DeferredStruct` reads the parts asked for,
/// checking them as it goes (lengths, wire types, UTF-8, nesting: what would
/// make swift-protobuf refuse the request); a problem found then is recorded in
/// the request's `DecodingReport` and the request is refused after composing.
/// Bytes nobody reads are not checked. In checking mode every object is
/// instead checked here, in one pass that allocates nothing (`checkStruct`):
/// the reference the lazy path is tested against.
struct RequestDecoder {
    private var r: WireReader
    private let bytes: RequestBytes
    private let checking: Bool

    private init(_ r: WireReader, _ bytes: RequestBytes, checking: Bool) {
        self.r = r
        self.bytes = bytes
        self.checking = checking
    }

    /// The request in `input` (copied: deferred objects outlive the caller's buffer).
    /// With `checking`, every object's bytes are checked here; without, each
    /// part of an object is checked when it is first read, and problems found
    /// then go to the request's `decoding` report.
    static func decode(_ input: UnsafeRawBufferPointer, checking: Bool = false) throws -> RunRequest {
        guard input.count > 0 else { return RunRequest() }
        let bytes = RequestBytes(copying: input)
        var d = RequestDecoder(WireReader(bytes.base, 0, bytes.count), bytes, checking: checking)
        var request = try d.request()
        request.decoding = bytes.report
        return request
    }

    /// Runs `body` with a decoder on the length-delimited message at the cursor.
    @inline(__always)
    private mutating func nested<T>(_ body: (inout RequestDecoder) throws -> T) throws -> T {
        let bytes = self.bytes
        let checking = self.checking
        return try r.nested { inner in
            var d = RequestDecoder(inner, bytes, checking: checking)
            defer { inner = d.r }
            return try body(&d)
        }
    }

    // MARK: messages

    private typealias F = WireContract

    private mutating func request() throws -> RunRequest {
        var out = RunRequest()
        var extra: [String: [Resource]] = [:]
        var required: [String: [Resource]] = [:]
        while r.hasMore {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (F.Request.meta, 2): try nested { try $0.meta(into: &out) }
            case (F.Request.observed, 2): out.observed = try nested { try $0.state(merging: out.observed) }
            case (F.Request.desired, 2): out.desired = try nested { try $0.state(merging: out.desired) }
            case (F.Request.input, 2): out.input = try nested { try $0.deferredStruct(merging: out.input) }
            case (F.Request.context, 2): out.context = try nested { try $0.deferredStruct(merging: out.context) }
            case (F.Request.extraResources, 2):
                let (k, v) = try nested { try $0.resourcesEntry() }
                extra[k] = v
            case (F.Request.credentials, 2):
                // Credentials without credential_data carry nothing: dropped, as the wire conversion does.
                let (k, v) = try nested { try $0.credentialsEntry() }
                out.credentials[k] = v
            case (F.Request.requiredResources, 2):
                let (k, v) = try nested { try $0.resourcesEntry() }
                required[k] = v
            case (F.Request.requiredSchemas, 2):
                // Unused, but checked as swift-protobuf checks it, so that both refuse the same requests.
                _ = try nested {
                    try $0.mapEntry {
                        try $0.nested {
                            try $0.eachField(F.Schema.openapiV3) { try $0.nested { try $0.r.checkStruct() } }
                        }
                    }
                }
            default: try r.skip(wire, field: field)
            }
        }
        // Older Crossplane answers under the deprecated extra_resources; required wins.
        out.requiredResources = extra.merging(required) { _, new in new }
        return out
    }

    private mutating func meta(into out: inout RunRequest) throws {
        while r.hasMore {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (F.RequestMeta.tag, 2): out.tag = try r.string()
            case (F.RequestMeta.capabilities, 0):
                out.capabilities.append(Capability(wireNumber: F.enumNumber(try r.varint())))
            case (F.RequestMeta.capabilities, 2):
                // Packed repeated enum.
                let stop = try r.lengthLimit()
                while r.pos < stop { out.capabilities.append(Capability(wireNumber: F.enumNumber(try r.varint()))) }
                guard r.pos == stop else { throw r.failure("malformed packed field") }
            default: try r.skip(wire, field: field)
            }
        }
    }

    private mutating func state(merging previous: State) throws -> State {
        var s = previous
        while r.hasMore {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (F.State.composite, 2): s.composite = try nested { try $0.resource(merging: s.composite) }
            case (F.State.resources, 2):
                var value: Resource?
                let key = try nested { try $0.mapEntry { value = try $0.nested { try $0.resource(merging: value) } } }
                s.resources[key] = value ?? Resource(object: .object([:]))
            default: try r.skip(wire, field: field)
            }
        }
        return s
    }

    private mutating func resource(merging previous: Resource?) throws -> Resource {
        var object = previous?.object
        var details = previous?.connectionDetails ?? [:]
        var ready = previous?.ready ?? .unspecified
        while r.hasMore {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (F.Resource.resource, 2): object = try nested { try $0.deferredStruct(merging: object) }
            case (F.Resource.connectionDetails, 2):
                let (k, v) = try nested { try $0.bytesEntry() }
                details[k] = v
            case (F.Resource.ready, 0): ready = Readiness(wireNumber: F.enumNumber(try r.varint()))
            default: try r.skip(wire, field: field)
            }
        }
        return Resource(object: object ?? .object([:]), connectionDetails: details, ready: ready)
    }

    private mutating func resourcesEntry() throws -> (String, [Resource]) {
        var items: [Resource] = []
        // A map value message: fields of the same message merge, so items accumulate.
        let key = try mapEntry {
            try $0.nested {
                try $0.eachField(F.Resources.items) { items.append(try $0.nested { try $0.resource(merging: nil) }) }
            }
        }
        return (key, items)
    }

    private mutating func credentialsEntry() throws -> (String, [String: Data]?) {
        var data: [String: Data]?
        let key = try mapEntry {
            try $0.nested {
                try $0.eachField(F.Credentials.credentialData) {
                    if data == nil { data = [:] }
                    try $0.nested {
                        try $0.eachField(F.CredentialData.data) {
                            let (k, v) = try $0.nested { try $0.bytesEntry() }
                            data?[k] = v
                        }
                    }
                }
            }
        }
        return (key, data)
    }

    private mutating func bytesEntry() throws -> (String, Data) {
        var value = Data()
        let key = try mapEntry { d in
            let n = try d.r.lengthLimit()
            value = Data(bytes: d.r.base + d.r.pos, count: n - d.r.pos)
            d.r.pos = n
        }
        return (key, value)
    }

    // MARK: google.protobuf.Struct, checked and deferred

    /// The Struct at hand (a message body), deferred (and checked, in checking
    /// mode); a repeated Struct field merges into `previous` (its later keys win).
    private mutating func deferredStruct(merging previous: Value?) throws -> Value {
        let start = r.pos
        if checking { try r.checkStruct() } else { r.pos = r.end }
        let range = DeferredStruct(bytes: bytes, body: MessageBody(start: start, end: r.end, depth: r.depth))
        if let base = previous?.objectValue {
            return .object(Fields(deferred: MergedStruct(base: base, next: range)))
        }
        return .object(Fields(deferred: range))
    }

    // MARK: map entries and repeated fields

    /// Reads a map entry at hand: returns its key (field 1) and hands each
    /// value field (2) to `value`, positioned at its length prefix.
    private mutating func mapEntry(_ value: (inout RequestDecoder) throws -> Void) throws -> String {
        var key = ""
        while r.hasMore {
            let (field, wire) = try r.tag()
            switch (field, wire) {
            case (F.MapEntry.key, 2): key = try r.string()
            case (F.MapEntry.value, 2): try value(&self)
            default: try r.skipInMapEntry(wire, field: field)
            }
        }
        return key
    }

    /// Hands each length-delimited field `number` of the message at hand (a
    /// repeated message field) to `body`, positioned at its length prefix; skips the rest.
    private mutating func eachField(_ number: Int, _ body: (inout RequestDecoder) throws -> Void) throws {
        while r.hasMore {
            let (field, wire) = try r.tag()
            if field == number, wire == 2 { try body(&self) } else { try r.skip(wire, field: field) }
        }
    }
}

extension WireReader {
    /// The one-byte tag of a length-delimited field.
    private static func lengthDelimited(_ field: Int) -> Int { field << 3 | 2 }

    // Dispatch keys of `checkStruct`: the level (which message the cursor is
    // in) times 256, plus the field's tag byte. Derived from `WireContract`.
    private static let structLevel = 0, entryLevel = 1, valueLevel = 2, listLevel = 3
    private static let structEntry = structLevel << 8 | lengthDelimited(WireContract.Struct.fields)
    private static let entryKey = entryLevel << 8 | lengthDelimited(WireContract.MapEntry.key)
    private static let entryValue = entryLevel << 8 | lengthDelimited(WireContract.MapEntry.value)
    private static let valueString = valueLevel << 8 | lengthDelimited(WireContract.Value.stringValue)
    private static let valueStruct = valueLevel << 8 | lengthDelimited(WireContract.Value.structValue)
    private static let valueList = valueLevel << 8 | lengthDelimited(WireContract.Value.listValue)
    private static let listItem = listLevel << 8 | lengthDelimited(WireContract.ListValue.values)

    /// Checks the Struct body at hand and moves to its end: everything that
    /// would make swift-protobuf refuse it (lengths, wire types, UTF-8, nesting)
    /// is refused here, without building anything.
    ///
    /// One loop over raw bytes with an explicit stack, not a function per
    /// message: this pass reads every byte of the request, so it is most of the
    /// decoder's cost (callgrind: 100 instructions per field recursively, see
    /// the README's performance notes, against about 20 here).
    mutating func checkStruct() throws {
        let levels = Self.maxDepth - depth + 1
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * max(levels, 1)) { stack in
            var sp = 0
            var stop = end
            var level = Self.structLevel
            while true {
                if pos == stop {
                    guard sp > 0 else { return }
                    sp -= 2
                    stop = stack[sp]
                    level = stack[sp + 1]
                    continue
                }
                // The tag: one byte almost always; a longer (valid, if unusual) encoding
                // of a small field number is read in full and dispatched the same way.
                var t = Int(base[pos])
                var tagLength = 1
                if t >= 0x80 {
                    var r = WireReader(base, pos, stop, depth: depth + sp / 2)
                    let (field, wire) = try r.tag()
                    t = field < 16 ? field << 3 | wire : -1
                    tagLength = r.pos - pos
                }
                let key = t >= 0 ? level << 8 | t : -1
                var opens = -1
                if t >= 0 {
                    switch key {
                    case Self.valueString, Self.entryKey:
                        pos += tagLength
                        let n = try lengthWithin(stop)
                        guard Self.isValidUTF8(UnsafeBufferPointer(start: base + pos, count: n)) else {
                            throw failure("a string field is not valid UTF-8")
                        }
                        pos += n
                        continue
                    case Self.entryValue, Self.listItem: opens = Self.valueLevel
                    case Self.entryLevel << 8 | 0x08...Self.entryLevel << 8 | 0x17 where t & 7 != 2 && t & 7 != 4:
                        // A key or value of the wrong wire type: its tag only (see `skipInMapEntry`).
                        guard t >= 8, t & 7 <= 5 else { break }
                        pos += tagLength
                        continue
                    case Self.structEntry: opens = Self.entryLevel
                    case Self.valueStruct: opens = Self.structLevel
                    case Self.valueList: opens = Self.listLevel
                    default: break
                    }
                }
                if opens >= 0 {
                    pos += tagLength
                    let n = try lengthWithin(stop)
                    guard depth + sp / 2 < Self.maxDepth else {
                        throw failure("messages nest deeper than \(Self.maxDepth) levels")
                    }
                    stack[sp] = stop
                    stack[sp + 1] = level
                    sp += 2
                    stop = pos + n
                    level = opens
                } else {
                    // Scalars (numbers, booleans, nulls) and unknown fields: checked and skipped.
                    var r = WireReader(base, pos, stop, depth: depth + sp / 2)
                    let (field, wire) = try r.tag()
                    try r.skip(wire, field: field)
                    pos = r.pos
                }
            }
        }
    }

    /// Reads a length at the cursor; the bytes it covers must end by `stop`.
    @inline(__always)
    private mutating func lengthWithin(_ stop: Int) throws -> Int {
        var n: UInt64
        if pos < stop, base[pos] < 0x80 {
            n = UInt64(base[pos])
            pos += 1
        } else {
            var r = WireReader(base, pos, stop, depth: depth)
            n = try r.varint()
            pos = r.pos
        }
        guard n <= UInt64(stop - pos) else { throw failure("truncated message") }
        return Int(n)
    }
}
