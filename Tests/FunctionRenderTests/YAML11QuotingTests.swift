import FunctionCore
import FunctionYAML
import Testing

/// What YAML 1.1 readers (Go's yaml.v2 in crossplane and kubectl, PyYAML) would misread is quoted.
@Suite struct YAML11QuotingTests {
    @Test(
        "Timestamps, YAML 1.1 booleans and numbers are quoted; other strings stay plain",
        arguments: [
            ("2024-01-01T00:00:00Z", true), ("2024-1-2", true), ("2024-01-01 10:00:00", true), ("yes", true),
            ("Off", true),
            ("1:20", true), ("1_000", true), ("0b101", true), ("-1_0.5", true),
            ("2024-01", false), ("v2024-01-01", false), ("qwen-2-5", false), ("gpu-east", false), ("Available", false),
            ("1.2.3-beta", false), ("ready", false),
        ] as [(String, Bool)])
    func quoting(_ s: String, _ quoted: Bool) throws {
        let text = YAML.emit(["k": .string(s)])
        #expect(text.contains("k: \"") == quoted, "\(text)")
        #expect(try YAML.parseStream(text) == [["k": .string(s)]])
    }
}
