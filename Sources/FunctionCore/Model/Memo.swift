/// Values worked out once per key during one compose, for work that is the
/// same on many clusters (a digest of the same inputs). Not shared between
/// calls or threads.
final class Memo<Key: Hashable, Value> {
    private var known: [Key: Value] = [:]

    /// The value for `key`, computed by `compute` the first time.
    func value(_ key: Key, _ compute: (Key) -> Value) -> Value {
        if let value = known[key] { return value }
        let value = compute(key)
        known[key] = value
        return value
    }
}
