import Foundation
import FunctionCore
import Synchronization
import Testing

@testable import FunctionProto

/// One decoded request read from many gRPC-like threads at once: lookups,
/// list searches, iteration, encoding and composing, all racing on the same
/// deferred objects (each level is decoded once, under its lock, while other
/// threads scan the same bytes). Every thread must see exactly what a lone
/// reader sees, nothing may deadlock, and a malformed part must be reported
/// with one verdict whatever the interleaving.
@Suite struct ConcurrentReadingTests {
    static let threads = 8
    static let rounds = 4

    /// Runs `body(thread)` on `threads` OS threads started together; returns when all are done.
    static func onThreads(_ threads: Int = Self.threads, _ body: @escaping @Sendable (Int) -> Void) {
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for t in 0..<threads {
            done.enter()
            let thread = Thread {
                start.wait()
                body(t)
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<threads { start.signal() }
        done.wait()
    }

    /// What one reader reads of a claim: a path, a list search, a field found in place.
    static func reads(_ claim: Value) -> [Value?] {
        [
            claim[path: "status", "atProvider", "manifest", "status", "phase"],
            claim[path: "metadata", "name"],
            claim.firstObject(inListAt: "status", "conditions", where: "type", is: "Ready"),
            claim.value(ofField: "reason", inFirstObjectInListAt: "status", "conditions", where: "type", is: "Synced"),
            claim[path: "status", "atProvider", "manifest", "status", "capacity", "storage", "missing"],
        ]
    }

    /// Every value of `v`, iterated (decoding every level), as a flat description.
    static func walk(_ v: Value) -> Int {
        switch v {
        case .object(let fields): return fields.reduce(1) { $0 + $1.key.utf8.count + walk($1.value) }
        case .list(let items): return items.reduce(1) { $0 + walk($1) }
        default: return 1
        }
    }

    @Test("Lookups, iteration, encoding and composing from many threads read one request as one reader does")
    func hammer() throws {
        let bytes = try Wire.encodeRequest(BenchmarkShape.request(clusters: 40, observed: true))
        // What a lone reader sees, on a request of its own.
        let alone = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
        let names = (0..<40).map { "pvc-ic-\($0)" }
        let expectedReads = names.map { Self.reads(alone.observed.resources[$0]!.object) }
        let expectedWalk = names.map { Self.walk(alone.observed.resources[$0]!.object) }
        let expectedRequest = try Wire.encodeRequest(alone)
        let expectedResponse = Wire.encodeResponse(Composer().run(alone))
        #expect(RequestPipeline.verdict(on: alone) == nil)

        for _ in 0..<Self.rounds {
            let shared = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
            let failures = Mutex<[String]>([])
            Self.onThreads { t in
                func fail(_ s: String) { failures.withLock { $0.append("thread \(t): \(s)") } }
                // Each thread takes the objects in its own order and mixes the kinds of reading.
                let order = t % 2 == 0 ? Array(names.indices) : Array(names.indices.reversed())
                for i in order {
                    let claim = shared.observed.resources[names[i]]!.object
                    switch (t + i) % 4 {
                    case 0:
                        if Self.reads(claim) != expectedReads[i] { fail("reads of \(names[i])") }
                    case 1:
                        if Self.walk(claim) != expectedWalk[i] { fail("walk of \(names[i])") }
                        if Self.reads(claim) != expectedReads[i] { fail("reads after walk of \(names[i])") }
                    case 2:
                        if Self.reads(claim) != expectedReads[i] { fail("reads of \(names[i])") }
                        if Self.walk(claim) != expectedWalk[i] { fail("walk after reads of \(names[i])") }
                    default:
                        _ = claim.hashValue
                        if claim != alone.observed.resources[names[i]]!.object { fail("equality of \(names[i])") }
                    }
                }
                switch t % 3 {
                case 0:
                    if (try? Wire.encodeRequest(shared)) != expectedRequest { fail("request encoding") }
                case 1:
                    if Wire.encodeResponse(Composer().run(shared)) != expectedResponse { fail("response") }
                default:
                    if Wire.encodeResponse(RequestPipeline.respond(to: shared, composer: Composer()))
                        != expectedResponse
                    {
                        fail("response through the pipeline")
                    }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
            #expect(RequestPipeline.verdict(on: shared) == nil)
        }
    }

    @Test("A malformed object found by racing readers: one recorded verdict, a Fatal answer without desired state")
    func malformedRacing() throws {
        var bytes = try Wire.encodeRequest(BenchmarkShape.request(clusters: 20, observed: true))
        let marker = Array("Bound".utf8)
        let hits = (0...(bytes.count - marker.count)).filter { Array(bytes[$0..<$0 + marker.count]) == marker }
        try #require(hits.count == 20)
        bytes[hits[7]] = 0xFF
        for _ in 0..<Self.rounds {
            let shared = try bytes.withUnsafeBytes { try Wire.decodeRequest($0) }
            #expect(RequestPipeline.verdict(on: shared) == nil, "not read yet")
            let answers = Mutex<[RunResponse]>([])
            Self.onThreads { t in
                for i in 0..<20 {
                    let claim = shared.observed.resources["pvc-ic-\(i)"]!.object
                    if t % 2 == 0 { _ = Self.reads(claim) } else { _ = Self.walk(claim) }
                }
                let response = RequestPipeline.respond(to: shared, composer: Composer())
                answers.withLock { $0.append(response) }
            }
            let verdict = try #require(RequestPipeline.verdict(on: shared))
            #expect(verdict.contains("not valid UTF-8"), "\(verdict)")
            for response in answers.withLock({ $0 }) {
                #expect(response.isFatal && response.desired.resources.isEmpty && response.desired.composite == nil)
            }
        }
    }
}
