import FunctionCore

import struct FoundationEssentials.Data

// The request decoder: bytes of a RunFunctionRequest to the core's `RunRequest`,
// with the objects in it read lazily. Every reader here follows swift-protobuf's
// binary decoder (the reference the tests and the fuzzer compare against):
// proto3 semantics (a repeated message field merges into the one before it, the
// last scalar wins, a later map entry replaces an earlier one with the same key,
// unknown fields are skipped, map entries may hold their value before their key)
// and its refusals (lengths, wire types, tags, varints, UTF-8 of strings,
// nesting up to `WireReader.maxDepth`).
//
// Why not swift-protobuf: decoding into `Google_Protobuf_Struct` and then
// converting to `Value` took 38 ms for a 370 KB request (100 clusters, all
// hydrating), most of it allocating and copying intermediate messages. Why
// lazily: the composers read a handful of fields of each observed object
// (status conditions, the remote object's name and phase) out of thousands.
//
// The readers, each over a copy of the request's bytes (`RequestBytes`):
//
// - `WireReader` (WireReader.swift): the cursor every reader uses: tags,
//   varints, lengths, skipping unknown fields and groups, UTF-8 checks. It keeps
//   the invariant that a read never leaves the message at hand (`end`) and never
//   nests deeper than `maxDepth`; anything else throws a `WireReader.Failure`.
// - `RequestDecoder` (this file): the request's own messages (meta, states,
//   resources, maps, credentials), read and checked in full, up front. Each
//   object (`google.protobuf.Struct`: a composite or composed resource, the input,
//   the context, a required resource) is not decoded: it becomes a
//   `DeferredStruct`, a byte range of the copy (in checking mode, after the check below).
// - `WireReader.checkStruct` (WireReader+CheckStruct.swift): checks a whole
//   Struct in one pass that builds nothing. It runs up front on required schemas
//   (unused, but refused as swift-protobuf refuses them) and, in checking mode
//   (`Wire.decodeRequest(_:checkingEverything:)`), on every object: the
//   reference the lazy path is tested against.
// - `DeferredStruct` (DeferredStruct.swift, with its level scan in
//   DeferredStruct+LevelScan.swift): reads an object's bytes as the composers
//   ask: one key of a level (scanning the level's entries, skipping each other
//   value by its length), a path level by level, a list searched in place, or
//   the whole level once when the object is iterated or encoded. It recognises
//   the usual encoding (an entry that is exactly a key and a value, a Value that
//   is exactly one field) and steps through it without building objects;
//   anything unusual goes to the general reading below. It keeps the invariant
//   that every byte it reads is checked by the rules above, before it is used.
// - `WireReader.value(_:merging:)` (WireReader+Value.swift): the general
//   reading of one google.protobuf.Value (a oneof, merged by protobuf's rules);
//   a nested object becomes a `DeferredStruct` again, and a Struct field that
//   appears twice a `MergedStruct` (MergedStruct.swift).
//
// What is checked when: the request's messages, up front (a malformed one
// refuses the request before composing). Each object, as far as it is read,
// by a composer or by the encoder (which reads every desired object it writes):
// the first malformed byte read is recorded in the request's `DecodingReport`,
// the part reads as absent, and the pipeline refuses the request with the same
// error as an up-front refusal, so no desired state ever leaves from it. The one
// leniency, against swift-protobuf: bytes nothing reads are never checked. A
// request whose only malformed bytes lie in a part that is never read (a field
// of an observed object no composer asks for, or an object overwritten by a
// later entry with the same key or a later field of the same oneof) is answered
// as the well-formed request would be (`LazyCheckingTests`).

/// Decodes a serialized RunFunctionRequest into the core model: the request's
/// messages up front, its objects deferred (see the comment above).
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
