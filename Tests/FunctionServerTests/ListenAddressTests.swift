import Testing

@testable import FunctionServer

/// --address: host:port with a real port, or a message naming the value and the rule.
@Suite struct ListenAddressTests {
    static let accepted: [(text: String, host: String, port: Int, grpc: String)] = [
        ("0.0.0.0:9443", "0.0.0.0", 9443, "0.0.0.0:9443"),
        ("localhost:1", "localhost", 1, "localhost:1"),
        ("function.example-1.svc:65535", "function.example-1.svc", 65535, "function.example-1.svc:65535"),
        ("[::]:9443", "::", 9443, "[::]:9443"),
        ("[fe80::1%eth0]:80", "fe80::1%eth0", 80, "[fe80::1%eth0]:80"),
    ]

    @Test("Valid addresses parse and print back as gRPC expects", arguments: accepted)
    func accepts(_ c: (text: String, host: String, port: Int, grpc: String)) throws {
        let address = try ListenAddress(parsing: c.text)
        #expect(address.host == c.host && address.port == c.port)
        #expect(address.description == c.grpc)
    }

    static let rejected: [(text: String, rule: String)] = [
        ("0.0.0.0:99999", "port \"99999\" must be a number from 1 to 65535"),
        ("0.0.0.0:0", "port \"0\" must be a number from 1 to 65535"),
        ("0.0.0.0:-1", "port \"-1\" must be a number from 1 to 65535"),
        ("0.0.0.0:00000000000009443", "port \"00000000000009443\" must be a number from 1 to 65535"),
        ("localhost", "a port is required"),
        ("localhost:", "a port is required"),
        (":9443", "a host is required"),
        ("::1:9443", "write an IPv6 host in brackets"),
        ("[::1]", "a port is required after ]"),
        ("[::1:9443", "an IPv6 address needs a closing ]"),
        ("[]:9443", "\"\" is not an IPv6 address"),
        ("unix:/tmp/socket", "port \"/tmp/socket\" must be a number from 1 to 65535"),
        ("exa mple:80", "\"exa mple\" is not a host name or IP address"),
        ("", "a port is required"),
    ]

    @Test("Invalid addresses are refused with the value and the rule", arguments: rejected)
    func rejects(_ c: (text: String, rule: String)) {
        #expect {
            try ListenAddress(parsing: c.text)
        } throws: { error in
            "\(error)".contains("--address \"\(c.text)\" is not a valid listen address: \(c.rule)")
        }
    }
}
