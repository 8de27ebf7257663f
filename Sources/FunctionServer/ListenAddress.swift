/// A `host:port` the server listens on, validated before gRPC sees it (gRPC
/// would silently pick port 443 for a missing port and reject or wrap an
/// out-of-range one with a misleading message).
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// The host: a name, an IPv4 address, or an IPv6 address without brackets.
    public var host: String
    /// The TCP port, 1 to 65535.
    public var port: Int

    /// The address as gRPC expects it (`host:port`, IPv6 in brackets).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` or `[ipv6]:port`; throws a message naming the value and the rule.
    public init(parsing text: String) throws {
        func fail(_ rule: String) -> ServerError {
            ServerError(
                "--address \"\(text)\" is not a valid listen address: \(rule) (for example 0.0.0.0:9443 or [::]:9443)")
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("an IPv6 address needs a closing ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("a port is required after ]") }
            portText = rest.dropFirst()
            // An optional zone after %, e.g. fe80::1%eth0.
            let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let zoneOK =
                parts.count == 1
                || (!parts[1].isEmpty && parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            guard !parts[0].isEmpty, zoneOK, parts[0].allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw fail("\"\(host)\" is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("a port is required") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw fail("write an IPv6 host in brackets") }
            guard !host.isEmpty else { throw fail("a host is required") }
            guard host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" }) else {
                throw fail("\"\(host)\" is not a host name or IP address")
            }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
            let port = Int(portText), (1...65535).contains(port)
        else {
            throw fail(
                portText.isEmpty ? "a port is required" : "port \"\(portText)\" must be a number from 1 to 65535")
        }
        self.host = String(host)
        self.port = port
    }
}
