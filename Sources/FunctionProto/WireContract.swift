import FunctionCore

/// Crossplane's RunFunction wire contract (`proto/run_function.proto`) in one
/// place: the field numbers the hand-written codecs read and write, the fields
/// they leave alone on purpose, and the number of every enum value of the core
/// model. The codecs (`RequestDecoder`, `DeferredStruct`, `ResponseEncoder`)
/// and the conversions to the generated types (`Wire`) use only these names;
/// `WireContractTests` fails when the generated code has a field or an enum
/// value this map does not account for.
enum WireContract {
    /// `RunFunctionRequest`, read by `RequestDecoder`.
    enum Request {
        /// Field numbers.
        static let meta = 1, observed = 2, desired = 3, input = 4, context = 5
        /// Field numbers.
        static let extraResources = 6, credentials = 7, requiredResources = 8
        /// Checked (as swift-protobuf checks it) but not kept: the function never asks for schemas.
        static let requiredSchemas = 9
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let read = [
            meta, observed, desired, input, context, extraResources, credentials, requiredResources, requiredSchemas,
        ]
    }

    /// `Schema` (an answer to a schema requirement; checked, not kept).
    enum Schema {
        /// Field numbers.
        static let openapiV3 = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let read = [openapiV3]
    }

    /// `RequestMeta`.
    enum RequestMeta {
        /// Field numbers.
        static let tag = 1, capabilities = 2
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let read = [tag, capabilities]
    }

    /// `State`, read and written.
    enum State {
        /// Field numbers.
        static let composite = 1, resources = 2
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let all = [composite, resources]
    }

    /// `Resource`, read and written.
    enum Resource {
        /// Field numbers.
        static let resource = 1, connectionDetails = 2, ready = 3
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let all = [resource, connectionDetails, ready]
    }

    /// `Resources` (the items answered for one requirement).
    enum Resources {
        /// Field numbers.
        static let items = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let read = [items]
    }

    /// `Credentials` (a oneof of one kind).
    enum Credentials {
        /// Field numbers.
        static let credentialData = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let read = [credentialData]
    }

    /// `CredentialData`.
    enum CredentialData {
        /// Field numbers.
        static let data = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let read = [data]
    }

    /// `RunFunctionResponse`, written by `ResponseEncoder`.
    enum Response {
        /// Field numbers.
        static let meta = 1, desired = 2, results = 3, context = 4, requirements = 5, conditions = 6, output = 7
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [meta, desired, results, context, requirements, conditions, output]
    }

    /// `ResponseMeta`.
    enum ResponseMeta {
        /// Field numbers.
        static let tag = 1, ttl = 2
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [tag, ttl]
    }

    /// `google.protobuf.Duration` (the TTL).
    enum Duration {
        /// Field numbers.
        static let seconds = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [seconds]
        /// Fields left alone on purpose, with the reason.
        static let ignored = [2: "nanos: TTLs are whole seconds"]
    }

    /// `Result`.
    enum Result {
        /// Field numbers.
        static let severity = 1, message = 2, reason = 3, target = 4
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [severity, message, reason, target]
    }

    /// `Condition`.
    enum Condition {
        /// Field numbers.
        static let type = 1, status = 2, reason = 3, message = 4, target = 5
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [type, status, reason, message, target]
    }

    /// `Requirements`.
    enum Requirements {
        /// Field numbers.
        static let resources = 2, schemas = 3
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [resources, schemas]
        /// Fields left alone on purpose, with the reason.
        static let ignored = [1: "extra_resources: deprecated; resources carries the same selectors"]
    }

    /// `ResourceSelector`.
    enum ResourceSelector {
        /// Field numbers.
        static let apiVersion = 1, kind = 2, matchName = 3, matchLabels = 4, namespace = 5
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [apiVersion, kind, matchName, matchLabels, namespace]
    }

    /// `MatchLabels`.
    enum MatchLabels {
        /// Field numbers.
        static let labels = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [labels]
    }

    /// `SchemaSelector`.
    enum SchemaSelector {
        /// Field numbers.
        static let apiVersion = 1, kind = 2
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let written = [apiVersion, kind]
    }

    /// Every protobuf map entry.
    enum MapEntry {
        /// Field numbers.
        static let key = 1, value = 2
    }

    /// `google.protobuf.Struct`.
    enum Struct {
        /// Field numbers.
        static let fields = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let all = [fields]
    }

    /// `google.protobuf.Value` (a oneof).
    enum Value {
        /// Field numbers.
        static let nullValue = 1, numberValue = 2, stringValue = 3, boolValue = 4, structValue = 5, listValue = 6
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let all = [nullValue, numberValue, stringValue, boolValue, structValue, listValue]
    }

    /// `google.protobuf.ListValue`.
    enum ListValue {
        /// Field numbers.
        static let values = 1
        /// Every field number above: what `WireContractTests` compares with the generated code.
        static let all = [values]
    }

    /// An enum's number as protobuf reads it from a varint (enums are int32).
    static func enumNumber(_ varint: UInt64) -> Int {
        Int(Int32(truncatingIfNeeded: varint))
    }
}

extension Readiness {
    /// The `Ready` enum number.
    var wireNumber: Int {
        switch self {
        case .unspecified: return 0
        case .ready: return 1
        case .notReady: return 2
        }
    }

    /// The readiness of a `Ready` number; unknown numbers read as unspecified.
    init(wireNumber n: Int) {
        switch n {
        case 1: self = .ready
        case 2: self = .notReady
        default: self = .unspecified
        }
    }
}

extension Severity {
    /// The `Severity` enum number.
    var wireNumber: Int {
        switch self {
        case .fatal: return 1
        case .warning: return 2
        case .normal: return 3
        }
    }

    /// The severity of a `Severity` number; unspecified and unknown read as normal.
    init(wireNumber n: Int) {
        switch n {
        case 1: self = .fatal
        case 2: self = .warning
        default: self = .normal
        }
    }
}

extension ConditionStatus {
    /// The `Status` enum number.
    var wireNumber: Int {
        switch self {
        case .unknown: return 1
        case .true: return 2
        case .false: return 3
        }
    }

    /// The status of a `Status` number; unspecified and unknown read as unknown.
    init(wireNumber n: Int) {
        switch n {
        case 2: self = .true
        case 3: self = .false
        default: self = .unknown
        }
    }
}

extension Target {
    /// The `Target` enum number.
    var wireNumber: Int {
        switch self {
        case .composite: return 1
        case .compositeAndClaim: return 2
        }
    }

    /// The target of a `Target` number; nil for unspecified or unknown.
    init?(wireNumber n: Int) {
        switch n {
        case 1: self = .composite
        case 2: self = .compositeAndClaim
        default: return nil
        }
    }
}

extension Capability {
    /// The `Capability` enum number.
    var wireNumber: Int {
        switch self {
        case .capabilities: return 1
        case .requiredResources: return 2
        case .credentials: return 3
        case .conditions: return 4
        case .requiredSchemas: return 5
        case .unknown(let n): return n
        }
    }

    /// The capability of a `Capability` number (from a varint, read as int32).
    init(wireNumber n: Int) {
        switch n {
        case 1: self = .capabilities
        case 2: self = .requiredResources
        case 3: self = .credentials
        case 4: self = .conditions
        case 5: self = .requiredSchemas
        default: self = .unknown(n)
        }
    }
}
