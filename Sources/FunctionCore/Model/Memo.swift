/// Values worked out once per key during one compose, for work that is the
/// same on many clusters (a digest of the same inputs). Not shared between
/// calls or threads.
final class Memo<Key: Hashable, Value> {
    private var known: [Key: Value] = [:]
    /// The key asked last and its value: consecutive clusters mostly ask the same
    /// key, and comparing it costs less than hashing it.
    private var last: (key: Key, value: Value)?

    /// The value for `key`, computed by `compute` from `context` the first time.
    /// The context is passed rather than captured: a closure that reads a
    /// property of a struct (the planner's staging) captures and copies the
    /// whole struct on every call (measured).
    func value<Context>(_ key: Key, with context: Context, _ compute: (Context, Key) -> Value) -> Value {
        if let last, last.key == key { return last.value }
        let value: Value
        if let known = known[key] {
            value = known
        } else {
            value = compute(context, key)
            known[key] = value
        }
        last = (key, value)
        return value
    }
}

/// A string compared and hashed by its UTF-8 bytes, for memo keys whose value
/// is computed from the bytes (a digest): Swift's `==` treats canonically
/// equivalent strings as equal, and their digests differ.
struct UTF8Key: Hashable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (a: UTF8Key, b: UTF8Key) -> Bool { utf8Equal(a.string, b.string) }

    func hash(into hasher: inout Hasher) {
        var s = string
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
