import Testing

@testable import FunctionCore

/// lifecycle.md §7 rule 1, the cache side: a ModelCache never prunes a revision
/// any consumer lists, in its Usage's `cache-revision` label or its
/// `cache-revisions` annotation; hostile annotation values are ignored, bounded.
@Suite struct PruningKeepsListedRevisionsTests {
    static let a = "rev-0123456789ab"
    static let b = "rev-abcdefabcdef"

    /// `count` distinct revision directory names.
    static func names(_ count: Int) -> [String] {
        (0..<count).map { i in
            "rev-" + String(repeating: "0", count: 12 - String(i, radix: 16).count) + String(i, radix: 16)
        }
    }

    @Test(
        "The cache-revisions annotation lists revision directories; anything else is ignored, and reading is bounded",
        arguments: [
            ("\(a) \(b)", [a, b], "Both listed revisions are read."),
            ("", [], "An empty annotation lists nothing."),
            ("  \(a)   \(b) ", [a, b], "Repeated spaces separate nothing."),
            (
                "rev-XYZ ../etc \(a) REV-0123456789AB rev-0123456789abc", [a],
                "Names not rev-<12 lowercase hex> are ignored."
            ),
            ("\(a)\n\(b)", [], "A raw newline makes one name that is not a revision directory."),
            ("\u{1B}[31m\(a)", [], "A terminal escape makes the name invalid."),
            (String(repeating: "\(a) ", count: 6_000), [a], "A 100 KB value is scanned only up to the name limit."),
            (names(20).joined(separator: " "), Array(names(16)), "At most 16 names are read from one annotation."),
        ])
    func annotation(_ value: String, _ expected: [String], _ reason: String) {
        let usage: Value = ["metadata": ["annotations": ["modelplane.ai/cache-revisions": .string(value)]]]
        #expect(CacheUsage.revisions(of: usage) == expected.sorted(), Comment(rawValue: reason))
    }

    @Test("An update's Job keeps every revision a Usage lists, by label or by annotation, besides the staged one")
    func jobKeepsListed() {
        var w = CacheWorld(clusters: [Fixtures.cluster("gpu-east")])
        w.reconcile()
        w.finish("gpu-east", ("Complete", "Completed", "done"))
        w.reconcile()
        w.reconcile()
        var usage = Lifecycle.usage("r1", cluster: "gpu-east", revision: Self.a)
        usage["metadata"]?["annotations"] = [
            "modelplane.ai/cache-revisions": .string("\(Self.a) \(Self.b) not-a-revision")
        ]
        w.usages = [usage]
        w.spec = with(
            Fixtures.defaultSpec, "artifact",
            ["source": ["huggingFace": ["repo": "Qwen/Qwen2.5-0.5B-Instruct", "revision": "v2"]]])
        let r = w.reconcile()
        let keep = manifest(r, "hydrate-gpu-east")?[path: "spec", "template", "spec", "containers"]?.listValue?.first?[
            "env"]?.listValue?.first { $0["name"]?.stringValue == "MODELCACHE_KEEP" }?["value"]?.stringValue
        #expect(keep == [revisionDirectory(Lifecycle.pinned()), Self.a, Self.b].sorted().joined(separator: " "))
    }
}
