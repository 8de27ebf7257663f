import FoundationEssentials
import FunctionCore
import SwiftProtobuf

/// The wire types under short names.
public typealias WireRequest = Apiextensions_Fn_Proto_V1_RunFunctionRequest
/// The wire response type.
public typealias WireResponse = Apiextensions_Fn_Proto_V1_RunFunctionResponse

/// Decoding and encoding RunFunction messages: bytes ⇄ core model.
///
/// v1beta1 messages are byte-for-byte the same as v1 (only the package name
/// differs, and it never goes on the wire), so the v1 types serve both.
public enum Wire {
    /// Why a body could not be decoded.
    public struct DecodeError: Error, CustomStringConvertible {
        /// What was wrong.
        public var description: String
    }

    /// Decodes a serialized RunFunctionRequest (the fast path; see `RequestDecoder`).
    ///
    /// Objects are checked as they are read: a malformed part of one shows up
    /// in the request's `decoding` report, which callers consult after
    /// composing and encoding (only the pipeline does, through
    /// `RequestPipeline.verdict`). With
    /// `checkingEverything`, every byte is checked here, as swift-protobuf does.
    package static func decodeRequest(_ bytes: UnsafeRawBufferPointer, checkingEverything: Bool = false) throws
        -> RunRequest
    {
        do {
            return try RequestDecoder.decode(bytes, checking: checkingEverything)
        } catch {
            throw DecodeError(description: "the body is not a RunFunctionRequest: \(error)")
        }
    }

    /// Decodes lazily, then reads every field of every object (as composing and
    /// encoding a request that uses all of it would), and throws if any part
    /// was malformed: the verdict the fast path reaches when it reads every
    /// live field. Tests and the fuzzer compare it with the other decoders: it
    /// accepts everything the up-front checker accepts, with the same values,
    /// and refuses only what the checker refuses. It may accept more: an object
    /// overwritten before it is read (a later map entry with the same key, a
    /// later field of a oneof) is never read, so never checked.
    package static func decodeRequestReadingEverything(_ bytes: UnsafeRawBufferPointer) throws -> RunRequest {
        let request = try decodeRequest(bytes)
        var hasher = Hasher()
        hasher.combine(request)
        _ = hasher.finalize()
        if let malformed = RequestPipeline.verdict(on: request) {
            throw DecodeError(description: "the body is not a RunFunctionRequest: \(malformed)")
        }
        return request
    }

    /// Decodes through swift-protobuf: the reference the fast decoder is tested against.
    package static func decodeRequestWithSwiftProtobuf(_ bytes: UnsafeRawBufferPointer) throws -> RunRequest {
        do {
            var options = BinaryDecodingOptions()
            options.discardUnknownFields = true
            // Borrow the caller's buffer: no copy of a possibly multi-megabyte body.
            let data =
                bytes.baseAddress.map {
                    Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: bytes.count, deallocator: .none)
                } ?? Data()
            return RunRequest(try WireRequest(serializedBytes: data, options: options))
        } catch {
            throw DecodeError(description: "the body is not a RunFunctionRequest: \(error)")
        }
    }

    /// Encodes a response; map entries are ordered, so equal responses give equal bytes.
    public static func encodeResponse(_ response: RunResponse) -> [UInt8] {
        ResponseEncoder.encode(response).array
    }

    /// Encodes a response into a block that can be handed to gRPC without a copy.
    public static func encodeResponseMessage(_ response: RunResponse) -> EncodedMessage {
        ResponseEncoder.encode(response)
    }

    /// The same bytes through swift-protobuf's deterministic serializer: the
    /// reference the fast encoder is tested against.
    package static func encodeResponseWithSwiftProtobuf(_ response: RunResponse) throws -> [UInt8] {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try WireResponse(response).serializedBytes(options: options)
    }
}

extension Resource {
    /// The core resource of a wire resource.
    public init(_ wire: Apiextensions_Fn_Proto_V1_Resource) {
        self.init(
            object: wire.hasResource ? Value(wire.resource) : .object([:]),
            connectionDetails: wire.connectionDetails,
            ready: Readiness(wire.ready))
    }

    /// This resource on the wire.
    public var wire: Apiextensions_Fn_Proto_V1_Resource {
        var w = Apiextensions_Fn_Proto_V1_Resource()
        w.resource = object.protoStruct
        w.connectionDetails = connectionDetails
        w.ready = ready.wire
        return w
    }
}

extension Readiness {
    init(_ wire: Apiextensions_Fn_Proto_V1_Ready) { self.init(wireNumber: wire.rawValue) }

    var wire: Apiextensions_Fn_Proto_V1_Ready { .init(rawValue: wireNumber) ?? .UNRECOGNIZED(wireNumber) }
}

extension State {
    /// The core state of a wire state.
    public init(_ wire: Apiextensions_Fn_Proto_V1_State) {
        self.init(
            composite: wire.hasComposite ? Resource(wire.composite) : nil,
            resources: wire.resources.mapValues(Resource.init))
    }

    /// This state on the wire.
    public var wire: Apiextensions_Fn_Proto_V1_State {
        var w = Apiextensions_Fn_Proto_V1_State()
        if let composite { w.composite = composite.wire }
        w.resources = resources.mapValues(\.wire)
        return w
    }
}

extension Capability {
    init(_ wire: Apiextensions_Fn_Proto_V1_Capability) { self.init(wireNumber: wire.rawValue) }
}

extension RunRequest {
    /// The core request of a wire request. The deprecated `extra_resources`
    /// answers are merged under `required_resources` (older Crossplane sends those).
    public init(_ wire: WireRequest) {
        var required = wire.extraResources.mapValues { $0.items.map(Resource.init) }
        for (k, v) in wire.requiredResources { required[k] = v.items.map(Resource.init) }
        self.init(
            tag: wire.meta.tag,
            capabilities: wire.meta.capabilities.map(Capability.init),
            observed: State(wire.observed),
            desired: State(wire.desired),
            input: wire.hasInput ? Value(wire.input) : nil,
            context: wire.hasContext ? Value(wire.context) : nil,
            requiredResources: required,
            credentials: wire.credentials.compactMapValues { c in
                if case .credentialData(let d) = c.source { return d.data }
                return nil
            })
    }
}

extension Target {
    var wire: Apiextensions_Fn_Proto_V1_Target { .init(rawValue: wireNumber) ?? .UNRECOGNIZED(wireNumber) }
}

extension Severity {
    var wire: Apiextensions_Fn_Proto_V1_Severity { .init(rawValue: wireNumber) ?? .UNRECOGNIZED(wireNumber) }
}

extension ConditionStatus {
    var wire: Apiextensions_Fn_Proto_V1_Status { .init(rawValue: wireNumber) ?? .UNRECOGNIZED(wireNumber) }
}

extension WireResponse {
    /// The wire response of a core response.
    public init(_ r: RunResponse) {
        self.init()
        meta.tag = r.tag
        if let ttl = r.ttlSeconds {
            var d = Google_Protobuf_Duration()
            d.seconds = ttl
            meta.ttl = d
        }
        desired = r.desired.wire
        results = r.results.map(\.wire)
        if let context = r.context { self.context = context.protoStruct }
        if let output = r.output { self.output = output.protoStruct }
        if let req = r.requirements { requirements = req.wire }
        conditions = r.conditions.map(\.wire)
    }
}

extension FunctionResult {
    /// This result on the wire.
    var wire: Apiextensions_Fn_Proto_V1_Result {
        var w = Apiextensions_Fn_Proto_V1_Result()
        w.severity = severity.wire
        w.message = message
        if let reason { w.reason = reason }
        if let target { w.target = target.wire }
        return w
    }
}

extension Requirements {
    /// These requirements on the wire.
    var wire: Apiextensions_Fn_Proto_V1_Requirements {
        var w = Apiextensions_Fn_Proto_V1_Requirements()
        w.resources = resources.mapValues { sel in
            var s = Apiextensions_Fn_Proto_V1_ResourceSelector()
            s.apiVersion = sel.apiVersion
            s.kind = sel.kind
            switch sel.match {
            case .name(let n): s.matchName = n
            case .labels(let l):
                var m = Apiextensions_Fn_Proto_V1_MatchLabels()
                m.labels = l
                s.matchLabels = m
            }
            if let ns = sel.namespace { s.namespace = ns }
            return s
        }
        w.schemas = schemas.mapValues { sel in
            var s = Apiextensions_Fn_Proto_V1_SchemaSelector()
            s.apiVersion = sel.apiVersion
            s.kind = sel.kind
            return s
        }
        return w
    }
}

extension Condition {
    /// This condition on the wire.
    var wire: Apiextensions_Fn_Proto_V1_Condition {
        var w = Apiextensions_Fn_Proto_V1_Condition()
        w.type = type
        w.status = status.wire
        w.reason = reason
        if let message { w.message = message }
        if let target { w.target = target.wire }
        return w
    }
}
