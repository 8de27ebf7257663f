import FunctionCore

/// A copy of one request's bytes, owned for as long as any object deferred
/// from it lives (objects are decoded from here on first access, possibly
/// after the caller's buffer is gone).
final class RequestBytes: @unchecked Sendable {
    // Immutable after init: written once, then only read.
    /// The first byte.
    let base: UnsafePointer<UInt8>
    /// How many bytes.
    let count: Int
    /// Where objects read later report bytes found malformed.
    let report = DecodingReport()

    /// A copy of `bytes`.
    init(copying bytes: UnsafeRawBufferPointer) {
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        if let source = bytes.baseAddress, bytes.count > 0 {
            UnsafeMutableRawPointer(storage).copyMemory(from: source, byteCount: bytes.count)
        }
        base = UnsafePointer(storage)
        count = bytes.count
    }

    deinit { UnsafeMutablePointer(mutating: base).deallocate() }
}
