/// The fields of a JSON-like object, kept sorted by the UTF-8 bytes of their keys.
///
/// Why not `[String: Value]`: a Kubernetes object is a tree of small maps that
/// this function decodes, builds and encodes thousands of times per call. A
/// sorted array costs one allocation per object instead of a hash table, needs
/// no hashing to look up the handful of keys an object has, and is already in
/// the order that protobuf's deterministic encoding, canonical JSON and YAML
/// emission want, so writers never sort. Equal objects have equal arrays.
///
/// Fields may also be *deferred*: a decoder hands over the serialized object
/// (`DeferredObject`), which reads only what is asked for (a field, a path, a
/// list search) behind the same API, and decodes the whole object once if it
/// is iterated. Composers read a handful of paths of each observed object;
/// the rest is never decoded.
public struct Fields: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One field.
    public typealias Element = (key: String, value: Value)

    /// Stored as a struct, not a tuple: the runtime destroys an array of tuples
    /// through a generic, much slower path.
    struct Entry: Sendable, Hashable {
        var key: String
        var value: Value
    }

    /// Strictly ascending by `utf8Less` of the keys; empty while `deferred` is set.
    private var stored: [Entry]
    /// Fields still to be decoded (then `stored` is unused). Two stored
    /// properties rather than an enum: reading `stored` directly borrows it,
    /// where a switch over an enum payload retains and releases (measured: a
    /// tenth of the encoder's instructions).
    private var deferred: DeferredObject?

    /// The fields, decoding deferred ones first.
    fileprivate var entries: [Entry] {
        @inline(__always) get {
            if let d = deferred { return d.fields().stored }
            return stored
        }
    }

    /// Runs `body` on the (decoded, uniquely referenced) entries.
    @inline(__always)
    private mutating func mutateEntries<R>(_ body: (inout [Entry]) -> R) -> R {
        if let d = deferred {
            stored = d.fields().stored
            deferred = nil
        }
        return body(&stored)
    }

    private init(sorted entries: [Entry]) {
        stored = entries
        deferred = nil
    }

    /// Fields whose keys are constants written in strictly ascending UTF-8
    /// order, for builders that run per cluster: no search and no sort. The
    /// order is checked in debug builds, where every test runs.
    init(ordered entries: [Entry]) {
        assert(zip(entries, entries.dropFirst()).allSatisfy { utf8Less($0.key, $1.key) }, "keys out of order")
        self.init(sorted: entries)
    }

    /// No fields.
    public init() {
        stored = []
        deferred = nil
    }

    /// The fields of a dictionary.
    public init(_ dictionary: [String: Value]) {
        self.init(sorted: dictionary.sorted { utf8Less($0.key, $1.key) }.map { Entry(key: $0.key, value: $0.value) })
    }

    /// String fields, e.g. labels.
    public init(_ strings: [String: String]) {
        self.init(
            sorted: strings.sorted { utf8Less($0.key, $1.key) }.map { Entry(key: $0.key, value: .string($0.value)) })
    }

    /// Fields from pairs in any order; for a repeated key the last pair wins
    /// (protobuf map semantics).
    public init<S: Sequence>(lastWins pairs: S) where S.Element == (String, Value) {
        var e: [Entry] = []
        e.reserveCapacity(pairs.underestimatedCount)
        for (k, v) in pairs { e.append(Entry(key: k, value: v)) }
        self.init(normalizing: e)
    }

    /// Fields that `source` decodes on first access (copies of these fields
    /// share `source`, and with it what it decoded).
    public init(deferred source: DeferredObject) {
        stored = []
        deferred = source
    }

    /// Sorts `e` by key and keeps the last of each run of equal keys.
    private init(normalizing e: [Entry]) {
        self.init(sorted: sortedByUTF8LastWins(e, key: \.key))
    }

    /// A literal; a repeated key is a programming error, as in a Dictionary literal.
    public init(dictionaryLiteral elements: (String, Value)...) {
        self.init(literal: elements)
    }

    /// The fields of an object literal (`Fields` or `Value`).
    init(literal elements: [(String, Value)]) {
        self.init(lastWins: elements)
        precondition(count == elements.count, "object literal has a repeated key")
    }

    /// Whether these fields are still waiting to be decoded (for tests of laziness).
    public var isDeferred: Bool {
        guard let d = deferred else { return false }
        return !d.isDecoded
    }

    // MARK: Collection

    /// The first position.
    public var startIndex: Int { 0 }
    /// Past the last position.
    public var endIndex: Int {
        // Read in place: going through `entries` would retain and release the array.
        if let d = deferred { return d.fields().stored.count }
        return stored.count
    }
    /// The field at `position`, in key order.
    public subscript(position: Int) -> Element {
        let e = entries[position]
        return (e.key, e.value)
    }

    /// Iterates over one snapshot of the entries (no decoding check per element).
    public struct Iterator: IteratorProtocol {
        fileprivate var base: IndexingIterator<[Entry]>

        /// The next field.
        public mutating func next() -> Element? {
            base.next().map { ($0.key, $0.value) }
        }
    }

    /// An iterator over the fields in key order.
    public func makeIterator() -> Iterator { Iterator(base: entries.makeIterator()) }

    // MARK: Lookup and update

    /// Where `key` is in `entries`, or where it would be inserted.
    private static func search(_ entries: [Entry], _ key: String) -> (found: Bool, index: Int) {
        // Most objects have a handful of keys: equality on short strings is cheaper than ordering.
        if entries.count <= 8 {
            for i in entries.indices where entries[i].key == key { return (true, i) }
            var i = 0
            while i < entries.count, utf8Less(entries[i].key, key) { i += 1 }
            return (false, i)
        }
        var lo = 0
        var hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let k = entries[mid].key
            if k == key { return (true, mid) }
            if utf8Less(k, key) { lo = mid + 1 } else { hi = mid }
        }
        return (false, lo)
    }

    /// The value of `key`; setting nil removes the field.
    public subscript(key: String) -> Value? {
        get {
            // Deferred: the source finds one key without decoding the rest.
            if let d = deferred { return d.value(forKey: key) }
            let (found, i) = Self.search(stored, key)
            return found ? stored[i].value : nil
        }
        set {
            mutateEntries { entries in
                // Appending in key order (builders, sorted wire maps) skips the search.
                if let value = newValue, entries.isEmpty || utf8Less(entries[entries.count - 1].key, key) {
                    entries.append(Entry(key: key, value: value))
                    return
                }
                let (found, i) = Self.search(entries, key)
                switch (found, newValue) {
                case (true, let value?): entries[i].value = value
                case (true, nil): entries.remove(at: i)
                case (false, let value?): entries.insert(Entry(key: key, value: value), at: i)
                case (false, nil): break
                }
            }
        }
    }

    /// The value at a path of keys (`keys[0]` of these fields, then `keys[1]` of
    /// that, …); nil when any step is missing or not an object. Deferred fields
    /// walk the path in their serialized form, without building the objects
    /// along the way.
    func value(atPath keys: Span<String>) -> Value? {
        guard !keys.isEmpty else { return .object(self) }
        if let d = deferred, keys.count > 1 { return d.value(forPath: keys) }
        guard let v = self[keys[0]] else { return nil }
        return v.value(atPath: keys.extracting(droppingFirst: 1))
    }

    /// The first object in the list at the path `keys` whose field `key` is the
    /// string `value`; nil when there is none (or the path is not a list).
    /// Deferred fields search the serialized list, building only the object found.
    func firstObject(inListAt keys: Span<String>, where key: String, is value: String) -> Value? {
        guard !keys.isEmpty else { return nil }
        if let d = deferred { return d.firstObject(inListAt: keys, where: key, is: value) }
        return self.value(atPath: keys)?.listValue?.first { $0[key]?.stringValue == value }
    }

    /// Field `field` of the first object in the list at the path `keys` whose
    /// field `key` is the string `value`: deferred fields read it in place.
    func value(
        ofField field: String, inFirstObjectInListAt keys: Span<String>, where key: String, is value: String
    ) -> Value? {
        guard !keys.isEmpty else { return nil }
        if let d = deferred { return d.value(ofField: field, inFirstObjectInListAt: keys, where: key, is: value) }
        return firstObject(inListAt: keys, where: key, is: value)?[field]
    }

    /// Calls `body` with each field from the last key to the first, without
    /// copying the storage (protobuf writers fill their buffers back to front).
    @inline(__always)
    public func forEachReversed(_ body: (String, Value) throws -> Void) rethrows {
        try entries.withUnsafeBufferPointer { buffer in
            var i = buffer.count
            while i > 0 {
                i -= 1
                try body(buffer[i].key, buffer[i].value)
            }
        }
    }

    /// The keys, in order.
    public var keys: [String] { entries.map(\.key) }

    /// The values, in key order.
    public var values: [Value] { entries.map(\.value) }

    /// A builder that appends fields in any order and sorts once: for decoders.
    public struct Builder {
        private var entries: [Entry]

        /// Starts from `fields` (a repeated message field merges into what came before).
        public init(_ fields: Fields? = nil) {
            entries = fields?.entries ?? []
        }

        /// Adds a field; a later one with the same key wins.
        public mutating func append(_ key: String, _ value: Value) { entries.append(Entry(key: key, value: value)) }

        /// The fields.
        public func build() -> Fields { Fields(normalizing: entries) }
    }

    /// An identity for this storage: equal identities (while both are alive)
    /// mean the same stored fields. Encoders use it to write a shared subtree once.
    package var storageIdentity: UnsafeRawPointer? {
        entries.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    // MARK: Hashable

    /// Equal keys with equal values.
    public static func == (a: Fields, b: Fields) -> Bool {
        if let x = a.deferred, let y = b.deferred, x === y { return true }
        let (a, b) = (a.entries, b.entries)
        guard a.count == b.count else { return false }
        for i in a.indices where a[i].key != b[i].key || a[i].value != b[i].value {
            return false
        }
        return true
    }

    /// Hashes the keys and values in order.
    public func hash(into hasher: inout Hasher) {
        let e = entries
        hasher.combine(e.count)
        for x in e {
            hasher.combine(x.key)
            hasher.combine(x.value)
        }
    }
}

/// An object in serialized form, decoded only when one of its fields is read.
///
/// A decoder subclasses this (it knows the bytes and where the object lies in
/// them) and wraps an instance with `Fields(deferred:)`. A class rather than a
/// protocol: `Fields` holds one reference, so `Value` stays two words, and
/// calls dispatch through the class table without an existential box.
///
/// Subclasses must be safe to use from several threads at once (copies of a
/// `Value` may cross threads), and `fields()` must decode once and return the
/// same fields after (encoders use their storage identity).
open class DeferredObject: @unchecked Sendable {
    /// Creates the object.
    public init() {}

    /// The value of one field, without decoding the others. Must equal
    /// `fields()[key]` on well-formed bytes (on malformed ones, a decoder
    /// records the problem and the request is refused).
    open func value(forKey key: String) -> Value? { fields()[key] }

    /// The value at a path of keys (at least two), as `Fields.value(atPath:)`.
    /// By default, one lookup per key; decoders override it to walk the path
    /// without building the objects along the way.
    open func value(forPath keys: Span<String>) -> Value? {
        guard let v = value(forKey: keys[0]) else { return nil }
        return v.value(atPath: keys.extracting(droppingFirst: 1))
    }

    /// The first object in the list at `keys` whose field `key` is the string
    /// `value` (a condition by type, a container by name), as
    /// `Fields.firstObject(inListAt:where:is:)`. By default, the list is read
    /// and searched; decoders override it to search the serialized list.
    open func firstObject(inListAt keys: Span<String>, where key: String, is value: String) -> Value? {
        let list = keys.count == 1 ? self.value(forKey: keys[0]) : self.value(forPath: keys)
        return list?.listValue?.first { $0[key]?.stringValue == value }
    }

    /// Field `field` of the first object in the list at `keys` whose field
    /// `key` is the string `value`, as `firstObject(inListAt:where:is:)?[field]`.
    /// Decoders override it to read the field without building the object.
    open func value(
        ofField field: String, inFirstObjectInListAt keys: Span<String>, where key: String, is value: String
    ) -> Value? {
        firstObject(inListAt: keys, where: key, is: value)?[field]
    }

    /// Every field, decoded (on the first call; later calls return the same fields).
    /// Must return fields that are not themselves deferred.
    open func fields() -> Fields { Fields() }

    /// Whether `fields()` has run.
    open var isDecoded: Bool { true }
}

/// `items` sorted by the UTF-8 bytes of `key`, keeping the last of items with
/// equal keys (protobuf map and Crossplane answer semantics). Input that is
/// already strictly ordered, the usual case, is returned after one pass.
func sortedByUTF8LastWins<T>(_ items: [T], key: (T) -> String) -> [T] {
    var e = items
    var i = 1
    while i < e.count, utf8Less(key(e[i - 1]), key(e[i])) { i += 1 }
    if i == e.count { return e }
    if e.count <= 16 {
        // Insertion sort in place: objects are small, and this allocates nothing.
        while i < e.count {
            let item = e[i]
            var j = i
            while j > 0, utf8Less(key(item), key(e[j - 1])) {
                e[j] = e[j - 1]
                j -= 1
            }
            e[j] = item
            i += 1
        }
    } else {
        // The standard library's sort is stable, so equal keys keep their order.
        e.sort { utf8Less(key($0), key($1)) }
    }
    var kept = 0
    for k in e.indices {
        if kept > 0, key(e[kept - 1]) == key(e[k]) {
            e[kept - 1] = e[k]
        } else {
            if kept != k { e[kept] = e[k] }
            kept += 1
        }
    }
    e.removeLast(e.count - kept)
    return e
}
