import Testing

@testable import FunctionCore

/// Names and label values the function derives from user names.
@Suite struct NamingTests {
    @Test("A valid label value is kept unchanged")
    func validLabelValueKept() {
        #expect(labelValue("qwen-2-5") == "qwen-2-5")
        #expect(labelValue("") == "")
        #expect(labelValue(String(repeating: "a", count: 63)) == String(repeating: "a", count: 63))
    }

    @Test("Names longer than 63 characters become distinct valid label values", arguments: [64, 100, 253])
    func longNamesBecomeValidLabels(length: Int) {
        let a = String(repeating: "a", count: length - 1) + "b"
        let b = String(repeating: "a", count: length - 1) + "c"
        #expect(isLabelValue(labelValue(a)))
        #expect(isLabelValue(labelValue(b)))
        #expect(labelValue(a) != labelValue(b))
        #expect(labelValue(a).utf8.count <= 63)
    }

    @Test("A name whose cut would end in a separator still gives a valid label value")
    func cutAtSeparator() {
        let name = String(repeating: "a", count: 56) + "-.-" + String(repeating: "b", count: 20)
        #expect(isLabelValue(labelValue(name)))
    }

    @Test("Revision directories are rev- and 12 hex digits of the identity's SHA-256")
    func revisionDirectoryShape() {
        // printf %s 'hf://Qwen/Qwen2.5-0.5B-Instruct' | sha256sum
        let dir = revisionDirectory("hf://Qwen/Qwen2.5-0.5B-Instruct")
        #expect(dir == "rev-3e9c25eb1467")
        #expect(dir != revisionDirectory("hf://Qwen/Qwen2.5-0.5B-Instruct@main"))
    }

    @Test(
        "A new Job's name digests identity, staged revision, retry, replaced Job and generation, in every case",
        arguments: [
            (nil, nil), ("", nil), ("hf://Qwen/Qwen2.5-0.5B-Instruct", nil),
            ("hf://Qwen/Qwen2.5-0.5B-Instruct@v1", nil), ("hf://Qwen/Qwen2.5-0.5B-Instruct", "old-job"),
        ]
            as [(String?, String?)])
    func jobNames(staged: String?, replacing: String?) {
        for retry in [nil, "2"] as [String?] {
            let staging = Lifecycle.staging(retry: retry)
            // Lifecycle.staging is at generation 0.
            let seed = ["hf://Qwen/Qwen2.5-0.5B-Instruct", staged ?? "", retry ?? "", replacing ?? "", "0"]
            let expected = childName(
                "modelcache", "ml-team", "qwen-2-5", "hydrate",
                shortDigest(seed.joined(separator: "\n"), length: 6))
            #expect(staging.newJobName(staged: staged, replacing: replacing) == expected)
        }
    }
}
