import FunctionCore
import Testing

@testable import FunctionProto

/// The encoder's speed tricks that measurably pay (bench/instructions.sh on
/// the benchmark requests), each checked on its own: the identity table
/// (without it the encoder costs 52 % more on seed-ready-n1000 and 71 % more
/// on seed-none-n1000) and the prefix-packed key sort (3–6 % of the encoder).
@Suite struct EncoderTablesTests {
    @Test("The identity table finds every inserted identity, across growth, and nothing else")
    func identityTable() {
        var table = IdentityTable()
        // Pointers 16 bytes apart, as allocations are: many share low bits and hash buckets.
        let base = UnsafeMutableRawPointer.allocate(byteCount: 16 * 5000, alignment: 16)
        defer { base.deallocate() }
        for i in 0..<5000 {
            #expect(table.find(base + 16 * i) == nil)
            table.insert(base + 16 * i, mark: i, count: 2 * i)
        }
        for i in 0..<5000 {
            let found = table.find(base + 16 * i)
            #expect(found?.mark == i && found?.count == 2 * i)
        }
        #expect(table.find(base + 8) == nil, "an identity never inserted is not found")
        // Re-inserting an identity replaces its entry.
        table.insert(base, mark: 7, count: 9)
        #expect(table.find(base)?.mark == 7 && table.find(base)?.count == 9)
    }

    @Test("Keys sort by UTF-8 bytes, however long their shared prefixes")
    func sortedKeysOrder() {
        var keys = ["", "a", "A", "é", "z", "pvc-ic-0001", "pvc-ic-0010", "pvc-ic-00010", "hydrate-ic-0001"]
        // Longer than the 16 packed bytes, differing only after them.
        keys +=
            (0..<50).map { "a-very-long-shared-prefix-\($0)" }
            + (0..<20).map { String(repeating: "x", count: 16) + "\($0)" }
        keys += ["\u{7F}", "\u{80}", "abcdefgh", "abcdefgh\u{0}", "abcdefghi"]
        let map = Dictionary(uniqueKeysWithValues: keys.map { ($0, 0) })
        #expect(sortedKeys(map) == keys.sorted(by: utf8Less))
    }

    @Test("Shared subtrees are written once and copied: the bytes equal swift-protobuf's")
    func sharedSubtreesEncodeEqual() throws {
        let manifest: Value = [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": ["accessModes": ["ReadWriteMany"]],
        ]
        var r = RunResponse(to: RunRequest(tag: "t"))
        for i in 0..<300 {
            r.desired.resources["pvc-\(i)"] = Resource(object: ["spec": ["forProvider": ["manifest": manifest]]])
        }
        #expect(Wire.encodeResponse(r) == (try Wire.encodeResponseWithSwiftProtobuf(r)))
    }
}

/// Deferred objects decode on first read, once, to what a full decode gives.
@Suite struct DeferredFieldsTests {
    @Test("Observed objects stay undecoded until read; reading one field leaves the others undecoded")
    func laziness() throws {
        let bytes = try Wire.encodeRequest(BenchmarkShape.request(clusters: 3, observed: true))
        let request = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
        let claim = try #require(request.observed.resources["pvc-ic-1"]?.object.objectValue)
        #expect(claim.isDeferred)
        #expect(claim["status"]?["atProvider"]?["manifest"]?["status"]?["phase"] == "Bound")
        #expect(claim.isDeferred, "a lookup scans, it does not decode the object")
        #expect(claim.count == 4)
        #expect(!claim.isDeferred)
    }

    @Test("Copies share one decoding, from many threads at once")
    func threads() async throws {
        let bytes = try Wire.encodeRequest(BenchmarkShape.request(clusters: 50, observed: true))
        let request = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
        let reference = try bytes.withUnsafeBytes { try Wire.decodeRequestWithSwiftProtobuf($0) }
        let objects = (0..<50).map { request.observed.resources["pvc-ic-\($0)"]!.object }
        let results = await withTaskGroup(of: Bool.self) { group in
            for t in 0..<8 {
                group.addTask {
                    objects.enumerated().allSatisfy { i, o in
                        o == reference.observed.resources["pvc-ic-\(i)"]!.object
                            && (t % 2 == 0 || o.hashValue == o.hashValue)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    @Test("Mutating a deferred object decodes it first and leaves other copies unchanged")
    func mutation() throws {
        let bytes = try Wire.encodeRequest(RunRequest(input: ["a": 1, "b": ["c": 2]]))
        let request = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
        var copy = try #require(request.input)
        copy["a"] = 5
        copy["z"] = true
        #expect(copy == ["a": 5, "b": ["c": 2], "z": true])
        #expect(request.input == ["a": 1, "b": ["c": 2]])
    }
}
