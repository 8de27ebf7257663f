extension WireReader {
    /// Which message of a Struct's grammar the checker is in.
    private enum StructPart: Int {
        /// A google.protobuf.Struct body: map entries.
        case structBody
        /// A map entry: a key and a Value.
        case mapEntry
        /// A google.protobuf.Value: one of its kinds.
        case value
        /// A google.protobuf.ListValue: Values.
        case list
    }

    /// What the checker does with the field at the cursor.
    private enum CheckStep {
        /// A string (an entry's key or a Value's string): its UTF-8 is checked.
        case string
        /// A message of the grammar: its body is checked as `StructPart`.
        case open(StructPart)
        /// A key or value of the wrong wire type: its tag only (see `skipInMapEntry`).
        case tagOnly
        /// A scalar (number, boolean, null) or an unknown field: checked and skipped.
        case skip
    }

    /// A message the checker is inside: where it ends and what it is.
    private struct CheckFrame {
        var stop: Int
        var part: StructPart
    }

    /// What to do with the field whose one-byte `tag` starts a field of `part`.
    @inline(__always)
    private static func checkStep(_ part: StructPart, tag: Int) -> CheckStep {
        let lengthDelimited = 2
        let wire = tag & 7
        guard wire == lengthDelimited else {
            // A key or value of the wrong wire type moves past its tag only (a group's
            // tags and invalid wire types take the general reading, which refuses them).
            let keyOrValue = tag >> 3 == WireContract.MapEntry.key || tag >> 3 == WireContract.MapEntry.value
            return part == .mapEntry && keyOrValue && wire != 4 && wire <= 5 ? .tagOnly : .skip
        }
        switch (part, tag >> 3) {
        case (.structBody, WireContract.Struct.fields): return .open(.mapEntry)
        case (.mapEntry, WireContract.MapEntry.key): return .string
        case (.mapEntry, WireContract.MapEntry.value): return .open(.value)
        case (.value, WireContract.Value.stringValue): return .string
        case (.value, WireContract.Value.structValue): return .open(.structBody)
        case (.value, WireContract.Value.listValue): return .open(.list)
        case (.list, WireContract.ListValue.values): return .open(.value)
        default: return .skip
        }
    }

    /// Checks the Struct body at hand and moves to its end: everything that
    /// would make swift-protobuf refuse it (lengths, wire types, UTF-8, nesting)
    /// is refused here, without building anything.
    ///
    /// One loop over raw bytes with an explicit stack, not a function per
    /// message: this pass reads every byte of the request, so it is most of the
    /// decoder's cost in checking mode (callgrind: 100 instructions per field
    /// recursively, against about 20 here).
    mutating func checkStruct() throws {
        try withUnsafeTemporaryAllocation(of: CheckFrame.self, capacity: max(Self.maxDepth - depth + 1, 1)) { stack in
            var open = 0
            var current = CheckFrame(stop: end, part: .structBody)
            while true {
                if pos == current.stop {
                    guard open > 0 else { return }
                    open -= 1
                    current = stack[open]
                    continue
                }
                // The tag: one byte almost always; a longer (valid, if unusual) encoding
                // of a small field number is read in full and dispatched the same way.
                let first = Int(base[pos])
                var tag: Int? = first
                var tagLength = 1
                if first >= 0x80 {
                    var r = WireReader(base, pos, current.stop, depth: depth + open)
                    let (field, wire) = try r.tag()
                    tag = field < 16 ? field << 3 | wire : nil
                    tagLength = r.pos - pos
                }
                switch tag.map({ Self.checkStep(current.part, tag: $0) }) ?? .skip {
                case .string:
                    pos += tagLength
                    let n = try lengthWithin(current.stop)
                    guard Self.isValidUTF8(UnsafeBufferPointer(start: base + pos, count: n)) else {
                        throw failure("a string field is not valid UTF-8")
                    }
                    pos += n
                case .open(let part):
                    pos += tagLength
                    let n = try lengthWithin(current.stop)
                    guard depth + open < Self.maxDepth else {
                        throw failure("messages nest deeper than \(Self.maxDepth) levels")
                    }
                    stack[open] = current
                    open += 1
                    current = CheckFrame(stop: pos + n, part: part)
                case .tagOnly:
                    pos += tagLength
                case .skip:
                    var r = WireReader(base, pos, current.stop, depth: depth + open)
                    let (field, wire) = try r.tag()
                    try r.skip(wire, field: field)
                    pos = r.pos
                }
            }
        }
    }

    /// Reads a length at the cursor; the bytes it covers must end by `stop`.
    @inline(__always)
    private mutating func lengthWithin(_ stop: Int) throws -> Int {
        var n: UInt64
        if pos < stop, base[pos] < 0x80 {
            n = UInt64(base[pos])
            pos += 1
        } else {
            var r = WireReader(base, pos, stop, depth: depth)
            n = try r.varint()
            pos = r.pos
        }
        guard n <= UInt64(stop - pos) else { throw failure("truncated message") }
        return Int(n)
    }
}
