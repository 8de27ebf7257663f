import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A lock for the short critical sections of a deferred object: an atomic
/// flag, yielding while another thread holds it (composers read one request
/// on one thread, so it is almost never contended; uncontended it costs two
/// atomic operations, where a futex-based mutex asks the kernel for the
/// thread's id).
struct SpinLock: ~Copyable {
    private let held = Atomic<Bool>(false)

    init() {}

    @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        while !held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            sched_yield()
        }
        defer { held.store(false, ordering: .releasing) }
        return try body()
    }
}
