import FunctionCore
#if canImport(Glibc)
import Glibc
#endif

/// Struct and ListValue bodies decoded so far in one request, by a hash of
/// their bytes; a hit is confirmed byte for byte before it is shared.
final class SharedSubtrees {
    /// Smaller bodies decode faster than they hash and compare (measured: 32
    /// bytes decodes the benchmark requests in the fewest instructions).
    static let minimumBytes = 32
    /// Larger bodies are rarely repeated whole; their parts still are.
    static let maximumBytes = 64 * 1024

    struct Entry {
        let start: Int
        let length: Int
        let kind: UInt8
        let height: Int
        let value: Value
    }

    /// Open addressing on the (already well mixed) hash: no second hashing.
    private var keys: [UInt64] = []
    private var entries: [Entry?] = []
    private var used = 0
    /// The deepest nesting level reached so far (see `sharedNested`).
    var deepest = 0

    private func slot(_ key: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: key) & (keys.count - 1)
        while entries[i] != nil && keys[i] != key {
            i = (i + 1) & (keys.count - 1)
        }
        return i
    }

    func find(_ key: UInt64, base: UnsafePointer<UInt8>, start: Int, length: Int, kind: UInt8) -> Entry? {
        guard !keys.isEmpty, let e = entries[slot(key)], e.length == length, e.kind == kind,
            e.start == start || memcmp(base + e.start, base + start, length) == 0
        else { return nil }
        return e
    }

    func insert(_ key: UInt64, start: Int, length: Int, kind: UInt8, height: Int, value: Value) {
        if (used + 1) * 2 > keys.count { grow() }
        let i = slot(key)
        // On a hash collision the first body keeps the slot; the other is simply not shared.
        guard entries[i] == nil else { return }
        keys[i] = key
        entries[i] = Entry(start: start, length: length, kind: kind, height: height, value: value)
        used += 1
    }

    private func grow() {
        let oldKeys = keys
        let oldEntries = entries
        let size = max(64, keys.count * 2)
        keys = Array(repeating: 0, count: size)
        entries = Array(repeating: nil, count: size)
        for (k, e) in zip(oldKeys, oldEntries) where e != nil {
            let i = slot(k)
            keys[i] = k
            entries[i] = e
        }
    }

    /// A 64-bit hash of the bytes, eight at a time (not for security: every hit is compared).
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int, kind: UInt8) -> UInt64 {
        let raw = UnsafeRawPointer(p)
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n) ^ (UInt64(kind) << 56)
        var i = 0
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 32)
    }
}
