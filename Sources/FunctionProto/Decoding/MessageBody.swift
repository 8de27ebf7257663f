/// A message's body in the request bytes: where it starts and ends, and how
/// many messages enclose it (nesting is bounded by `WireReader.maxDepth`).
struct MessageBody {
    /// Where the body starts.
    var start: Int
    /// Where it ends.
    var end: Int
    /// How many messages enclose it.
    var depth: Int
}
