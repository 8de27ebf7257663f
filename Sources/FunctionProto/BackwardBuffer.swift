#if canImport(Glibc)
    import Glibc
#endif

/// A byte buffer written from its end towards its start, growing by doubling.
/// Writing back to front means every nested message's length is known when
/// its prefix is written, so each byte is written exactly once.
final class BackwardBuffer {
    /// malloc'd, so that the finished block can go to C and be freed there.
    private var storage: UnsafeMutablePointer<UInt8>?
    private var capacity: Int
    /// Index of the first written byte.
    private var head: Int

    init(capacity: Int = 16 * 1024) {
        self.capacity = capacity
        self.storage = malloc(capacity)!.assumingMemoryBound(to: UInt8.self)
        self.head = capacity
    }

    deinit { free(storage) }

    /// Hands the written bytes over without copying them; the buffer is empty after.
    func finish() -> EncodedMessage {
        let block = storage!
        storage = nil
        return EncodedMessage(owner: UnsafeMutableRawPointer(block), start: block + head, count: capacity - head)
    }

    /// Bytes written so far.
    var count: Int { capacity - head }

    @inline(__always)
    private func reserve(_ n: Int) {
        if head < n { grow(n) }
    }

    private func grow(_ n: Int) {
        var newCapacity = capacity * 2
        while newCapacity - count < n { newCapacity *= 2 }
        let fresh = malloc(newCapacity)!.assumingMemoryBound(to: UInt8.self)
        let used = count
        (fresh + (newCapacity - used)).update(from: storage! + head, count: used)
        free(storage)
        storage = fresh
        capacity = newCapacity
        head = newCapacity - used
    }

    /// Prepends bytes of any storage (a string's UTF-8, a `Data`'s bytes): read as raw bytes, never rebound.
    func prepend(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        head -= bytes.count
        let to = storage! + head
        if bytes.count <= 16 {
            // Most strings are short keys: a loop beats a call into memcpy.
            for i in 0..<bytes.count { to[i] = bytes[i] }
        } else {
            UnsafeMutableRawPointer(to).copyMemory(from: base, byteCount: bytes.count)
        }
    }

    /// Prepends eight bytes, little-endian (a protobuf fixed64 or double).
    func prependFixed64(_ value: UInt64) {
        reserve(8)
        head -= 8
        UnsafeMutableRawPointer(storage! + head).storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    /// Prepends a copy of `count` bytes written earlier, starting when `count` was `mark`.
    func prependCopy(writtenAt mark: Int, count n: Int) {
        reserve(n)
        // Offsets from the end survive growth; the copy lands before `head`, so it cannot overlap.
        let source = storage! + (capacity - mark - n)
        head -= n
        (storage! + head).update(from: source, count: n)
    }

    @inline(__always)
    func prependByte(_ byte: UInt8) {
        reserve(1)
        head -= 1
        storage![head] = byte
    }

    @inline(__always)
    func prependVarint(_ value: UInt64) {
        reserve(10)
        if value < 0x80 {
            head -= 1
            storage![head] = UInt8(value)
            return
        }
        prependLongVarint(value)
    }

    private func prependLongVarint(_ value: UInt64) {
        // Seven bits per byte: the length follows from the highest bit set.
        let length = (70 &- value.leadingZeroBitCount) / 7
        head &-= length
        let out = storage! + head
        var v = value
        var i = 0
        while i < length &- 1 {
            out[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i &+= 1
        }
        out[i] = UInt8(truncatingIfNeeded: v)
    }

}

/// An encoded message in a malloc'd block that it owns until `release()`.
public final class EncodedMessage: @unchecked Sendable {
    // Immutable after init; ownership moves out at most once, in release().
    private var owner: UnsafeMutableRawPointer?
    /// The message bytes.
    package let bytes: UnsafeBufferPointer<UInt8>

    init(owner: UnsafeMutableRawPointer, start: UnsafePointer<UInt8>, count: Int) {
        self.owner = owner
        self.bytes = UnsafeBufferPointer(start: start, count: count)
    }

    deinit { free(owner) }

    /// The size in bytes.
    public var count: Int { bytes.count }

    /// A copy of the bytes.
    public var array: [UInt8] { Array(bytes) }

    /// Gives up ownership: the caller must `free` the returned block, which holds `bytes`.
    package func release() -> UnsafeMutableRawPointer? {
        defer { owner = nil }
        return owner
    }
}
