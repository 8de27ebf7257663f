import FoundationEssentials
import FunctionCore
import SwiftProtobuf

/// The client side of the wire: requests out, responses in (for `render --target`).
extension Wire {
    /// Encodes a request.
    public static func encodeRequest(_ r: RunRequest) throws -> [UInt8] {
        var w = WireRequest()
        w.meta.tag = r.tag
        w.meta.capabilities = r.capabilities.map(\.wire)
        w.observed = r.observed.wire
        w.desired = r.desired.wire
        if let input = r.input { w.input = input.protoStruct }
        if let context = r.context { w.context = context.protoStruct }
        for (key, items) in r.requiredResources {
            var resources = Apiextensions_Fn_Proto_V1_Resources()
            resources.items = items.map(\.wire)
            w.requiredResources[key] = resources
        }
        for (key, data) in r.credentials {
            var c = Apiextensions_Fn_Proto_V1_Credentials()
            var d = Apiextensions_Fn_Proto_V1_CredentialData()
            d.data = data
            c.credentialData = d
            w.credentials[key] = c
        }
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try w.serializedBytes(options: options)
    }

    /// Decodes a serialized RunFunctionResponse.
    public static func decodeResponse(_ bytes: [UInt8]) throws -> RunResponse {
        let w = try WireResponse(serializedBytes: bytes)
        var r = RunResponse(to: RunRequest(tag: w.meta.tag), ttlSeconds: w.meta.hasTtl ? w.meta.ttl.seconds : nil)
        r.desired = State(w.desired)
        r.context = w.hasContext ? Value(w.context) : nil
        r.output = w.hasOutput ? Value(w.output) : nil
        r.results = w.results.map { res in
            FunctionResult(
                severity: Severity(wireNumber: res.severity.rawValue), message: res.message,
                reason: res.hasReason ? res.reason : nil,
                target: res.hasTarget ? Target(res.target) : nil)
        }
        r.conditions = w.conditions.map { c in
            Condition(
                type: c.type, status: ConditionStatus(wireNumber: c.status.rawValue), reason: c.reason,
                message: c.hasMessage ? c.message : nil,
                target: c.hasTarget ? Target(c.target) : nil)
        }
        if w.hasRequirements {
            r.requirements = Requirements(
                resources: w.requirements.resources.mapValues { sel in
                    let match: ResourceSelector.Match
                    switch sel.match {
                    case .matchName(let n): match = .name(n)
                    case .matchLabels(let l): match = .labels(l.labels)
                    case .none: match = .labels([:])
                    }
                    return ResourceSelector(
                        apiVersion: sel.apiVersion, kind: sel.kind, match: match,
                        namespace: sel.hasNamespace ? sel.namespace : nil)
                },
                schemas: w.requirements.schemas.mapValues { SchemaSelector(apiVersion: $0.apiVersion, kind: $0.kind) })
        }
        return r
    }
}

extension Capability {
    var wire: Apiextensions_Fn_Proto_V1_Capability { .init(rawValue: wireNumber) ?? .UNRECOGNIZED(wireNumber) }
}

extension Target {
    init?(_ wire: Apiextensions_Fn_Proto_V1_Target) { self.init(wireNumber: wire.rawValue) }
}
