/// Where subtrees were written, by storage identity: open addressing with a
/// multiplicative hash, because this is asked once per object encoded and
/// SipHash (Dictionary's) cost more than the lookups save.
struct IdentityTable {
    private struct Slot {
        var key: UInt = 0
        var mark = 0
        var count = 0
    }

    private var slots: [Slot]
    private var used = 0
    private var shift: Int

    /// A table sized for about `expected` entries without regrowing (at least 1,024 slots).
    init(expected: Int = 0) {
        var size = 1024
        while size < 2 * expected { size *= 2 }
        slots = Array(repeating: Slot(), count: size)
        shift = 64 - size.trailingZeroBitCount
    }

    private func index(_ key: UInt) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt(shift))
    }

    func find(_ id: UnsafeRawPointer) -> (mark: Int, count: Int)? {
        let key = UInt(bitPattern: id)
        var i = index(key)
        while true {
            let slot = slots[i]
            if slot.key == key { return (slot.mark, slot.count) }
            if slot.key == 0 { return nil }
            i = (i + 1) & (slots.count - 1)
        }
    }

    mutating func insert(_ id: UnsafeRawPointer, mark: Int, count: Int) {
        if (used + 1) * 2 > slots.count { grow() }
        let key = UInt(bitPattern: id)
        var i = index(key)
        while slots[i].key != 0 && slots[i].key != key { i = (i + 1) & (slots.count - 1) }
        if slots[i].key == 0 { used += 1 }
        slots[i] = Slot(key: key, mark: mark, count: count)
    }

    private mutating func grow() {
        let old = slots
        let size = max(256, old.count * 2)
        slots = Array(repeating: Slot(), count: size)
        shift = 64 - size.trailingZeroBitCount
        used = 0
        for slot in old where slot.key != 0 {
            var i = index(slot.key)
            while slots[i].key != 0 { i = (i + 1) & (size - 1) }
            slots[i] = slot
            used += 1
        }
    }
}
