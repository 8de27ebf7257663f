import FoundationEssentials

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`…) and its DER bytes.
struct PEMBlock: Equatable {
    /// The word(s) between `-----BEGIN ` and `-----`.
    var label: String
    /// The decoded body.
    var der: [UInt8]

    /// Every block of `text`, in order; throws when a block is not closed or its body is not base64.
    static func parseAll(_ text: String) throws -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var label: String?
        var body = ""
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = String(
                raw.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            if let open = label {
                if line == "-----END \(open)-----" {
                    guard let data = Data(base64Encoded: body), !data.isEmpty else {
                        throw ServerError("the \(open) block \(blocks.count + 1) is not valid base64")
                    }
                    blocks.append(PEMBlock(label: open, der: [UInt8](data)))
                    label = nil
                    body = ""
                } else if !line.contains(":") {  // skip RFC 1421 headers such as Proc-Type
                    body += line
                }
            } else if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----"), line.count > 16 {
                label = String(line.dropFirst(11).dropLast(5))
            }
        }
        if let open = label { throw ServerError("the \(open) block \(blocks.count + 1) has no END line") }
        return blocks
    }
}
