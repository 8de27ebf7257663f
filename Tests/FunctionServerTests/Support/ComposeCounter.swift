import FunctionCore
import Synchronization

/// A composer that counts the requests it is given (and composes nothing).
final class ComposeCounter: Sendable {
    private struct Counting: KindComposer {
        let counter: ComposeCounter
        func compose(_ request: RunRequest, xr: XR, into response: inout RunResponse) { counter.add() }
    }

    private let calls = Mutex(0)

    /// A composer of ModelCaches and ModelReplicas that counts them instead of composing.
    var composer: Composer {
        Composer(composers: ["ModelCache": Counting(counter: self), "ModelReplica": Counting(counter: self)])
    }

    /// How many requests reached a kind's composer.
    var count: Int { calls.withLock { $0 } }

    private func add() { calls.withLock { $0 += 1 } }
}
