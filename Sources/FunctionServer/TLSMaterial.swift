import FoundationEssentials

/// TLS material for mTLS: the server identity and the CA that signs client certificates.
public struct TLSMaterial: Sendable {
    /// PEM server certificate chain.
    public var certificate: String
    /// PEM private key.
    public var key: String
    /// PEM CA bundle that client certificates must chain to.
    public var clientCA: String
    /// The server certificate's validity period (of the first certificate in `certificate`).
    let validity: CertificateValidity
    /// Where the server certificate came from, for messages.
    let certificateSource: String

    /// Creates TLS material from PEM text; throws a message naming `source` and the rule
    /// when a part is not what gRPC needs (so gRPC never sees unusable material).
    public init(certificate: String, key: String, clientCA: String, source: String = "TLS material") throws {
        func blocks(_ text: String, _ name: String) throws -> [PEMBlock] {
            do {
                return try PEMBlock.parseAll(text)
            } catch let error as ServerError {
                throw ServerError("\(source)/\(name) is not a valid PEM file: \(error)")
            }
        }
        func certificates(_ text: String, _ name: String) throws -> [CertificateValidity] {
            let found = try blocks(text, name).filter { $0.label == "CERTIFICATE" }
            guard !found.isEmpty else { throw ServerError("\(source)/\(name) holds no PEM CERTIFICATE block") }
            return try found.enumerated().map { index, block in
                do {
                    return try CertificateValidity(certificate: block.der)
                } catch {
                    throw ServerError("\(source)/\(name): certificate \(index + 1) is \(error)")
                }
            }
        }
        let serverCertificates = try certificates(certificate, "tls.crt")
        _ = try certificates(clientCA, "ca.crt")
        let keys = try blocks(key, "tls.key").filter { $0.label.hasSuffix("PRIVATE KEY") }
        guard let first = keys.first else { throw ServerError("\(source)/tls.key holds no PEM PRIVATE KEY block") }
        guard first.label != "ENCRYPTED PRIVATE KEY" else {
            throw ServerError("\(source)/tls.key is encrypted: the server needs an unencrypted private key")
        }
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
        self.validity = serverCertificates[0]
        self.certificateSource = "\(source)/tls.crt"
    }

    /// Reads `tls.crt`, `tls.key` and `ca.crt` from a directory (Crossplane's layout).
    public static func load(directory: String) throws -> TLSMaterial {
        func read(_ name: String) throws -> String {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "cannot read" : "no such file"
                throw ServerError("\(reason) \(path): mTLS needs tls.crt, tls.key and ca.crt in \(directory)")
            }
            guard let text = String(data: data, encoding: .utf8) else { throw ServerError("\(path) is not a PEM file") }
            return text
        }
        let source = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return try TLSMaterial(
            certificate: try read("tls.crt"), key: try read("tls.key"), clientCA: try read("ca.crt"),
            source: source)
    }

    /// A warning when the server certificate is not valid at `now` (seconds since 1970),
    /// or nil. The server still starts: see docs/operating.md, "TLS", on expired certificates.
    public func validityWarning(now: Int64) -> String? {
        validity.problem(at: now).map {
            "The server certificate \(certificateSource) \($0): clients will refuse the TLS handshake until it is renewed"
        }
    }
}
