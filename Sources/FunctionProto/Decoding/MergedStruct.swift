import FunctionCore
import Synchronization

/// A Struct field that appeared again: the later Struct's entries merge into
/// the earlier fields (protobuf's rule for a repeated message field).
final class MergedStruct: DeferredObject, @unchecked Sendable {
    /// The fields so far.
    let base: Fields
    /// The Struct that merges into them.
    let next: DeferredStruct
    private let merged = Mutex<Fields?>(nil)

    init(base: Fields, next: DeferredStruct) {
        self.base = base
        self.next = next
    }

    override var isDecoded: Bool { merged.withLock { $0 != nil } }

    /// The merged fields.
    override func fields() -> Fields {
        merged.withLock { merged in
            if let merged { return merged }
            var fields = Fields.Builder(base)
            for (k, v) in next.fields() { fields.append(k, v) }
            let m = fields.build()
            merged = m
            return m
        }
    }

    /// A later entry wins.
    override func value(forKey key: String) -> Value? {
        next.value(forKey: key) ?? base[key]
    }
}
