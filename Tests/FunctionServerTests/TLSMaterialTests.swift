import Testing

@testable import FunctionServer

/// TLS material is checked before gRPC sees it: every problem names the file and the rule,
/// and an expired or not-yet-valid server certificate gives a warning.
@Suite struct TLSMaterialTests {
    /// A self-signed throwaway test certificate: notBefore 2024-01-01T00:00:00Z (UTCTime),
    /// notAfter 2060-06-30T12:34:56Z (GeneralizedTime, as RFC 5280 requires from 2050).
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBEjCBuaADAgECAgEBMAoGCCqGSM49BAMCMBIxEDAOBgNVBAMMB2ZpeHR1cmUw
        IBcNMjQwMTAxMDAwMDAwWhgPMjA2MDA2MzAxMjM0NTZaMBIxEDAOBgNVBAMMB2Zp
        eHR1cmUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQzF7FSxWAWHG5DdC9+b24w
        uGRQLZ2wJGuzeNWceCx4SM/UDO/sd3OTA4P+eEEKwSMYA2ECzxTRlD3C+bv/DgDj
        MAoGCCqGSM49BAMCA0gAMEUCIB4h5emeKXjAEUmcNFaMm56H23yt+ECVOrYDJpmi
        R//IAiEAjc6wb/CWAQXjvBDtix29uqYKaP5yc9DNgXP0quu2oY4=
        -----END CERTIFICATE-----

        """
    /// The throwaway key of `certificate` (test fixture only).
    static let key = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPnh5Npui15rTyhKK
        oq1CZDGKi8rfP+SueV/16mTA31yhRANCAAQzF7FSxWAWHG5DdC9+b24wuGRQLZ2w
        JGuzeNWceCx4SM/UDO/sd3OTA4P+eEEKwSMYA2ECzxTRlD3C+bv/DgDj
        -----END PRIVATE KEY-----

        """
    static let notBefore: Int64 = 1_704_067_200
    static let notAfter: Int64 = 2_855_824_496

    @Test("The validity period is read from both time encodings")
    func readsValidity() throws {
        let material = try TLSMaterial(
            certificate: Self.certificate, key: Self.key, clientCA: Self.certificate, source: "/certs")
        #expect(material.validity == CertificateValidity(notBefore: Self.notBefore, notAfter: Self.notAfter))
    }

    static let moments: [(name: String, now: Int64, warning: String?)] = [
        ("Valid", notBefore + 86400, nil),
        ("FirstSecond", notBefore, nil),
        ("LastSecond", notAfter, nil),
        (
            "NotYetValid", notBefore - 1,
            "The server certificate /certs/tls.crt is not valid before 2024-01-01T00:00:00Z: clients will refuse the TLS handshake until it is renewed"
        ),
        (
            "Expired", notAfter + 1,
            "The server certificate /certs/tls.crt expired on 2060-06-30T12:34:56Z: clients will refuse the TLS handshake until it is renewed"
        ),
    ]

    @Test(
        "An expired or not-yet-valid server certificate gives a warning that names it and the date", arguments: moments)
    func warnsOutsideValidity(_ c: (name: String, now: Int64, warning: String?)) throws {
        let material = try TLSMaterial(
            certificate: Self.certificate, key: Self.key, clientCA: Self.certificate, source: "/certs")
        #expect(material.validityWarning(now: c.now) == c.warning)
    }

    static var broken: [(name: String, certificate: String, key: String, ca: String, message: String)] {
        let garbage = "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"
        let notBase64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
        return [
            ("NotPEM", "hello", key, certificate, "/certs/tls.crt holds no PEM CERTIFICATE block"),
            ("KeyAsCertificate", key, key, certificate, "/certs/tls.crt holds no PEM CERTIFICATE block"),
            (
                "GarbageDER", garbage, key, certificate,
                "/certs/tls.crt: certificate 1 is not a DER-encoded X.509 certificate"
            ),
            (
                "NotBase64", notBase64, key, certificate,
                "/certs/tls.crt is not a valid PEM file: the CERTIFICATE block 1 is not valid base64"
            ),
            (
                "Unterminated", String(certificate.prefix(80)), key, certificate,
                "/certs/tls.crt is not a valid PEM file: the CERTIFICATE block 1 has no END line"
            ),
            (
                "SecondBad", certificate + garbage, key, certificate,
                "/certs/tls.crt: certificate 2 is not a DER-encoded X.509 certificate"
            ),
            (
                "CAGarbage", certificate, key, garbage,
                "/certs/ca.crt: certificate 1 is not a DER-encoded X.509 certificate"
            ),
            ("CAEmpty", certificate, key, "", "/certs/ca.crt holds no PEM CERTIFICATE block"),
            (
                "KeyIsCertificate", certificate, certificate, certificate,
                "/certs/tls.key holds no PEM PRIVATE KEY block"
            ),
            (
                "EncryptedKey", certificate,
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
                certificate, "/certs/tls.key is encrypted: the server needs an unencrypted private key"
            ),
        ]
    }

    @Test("Unusable certificate or key files are reported as such, naming the file", arguments: broken)
    func rejectsBrokenMaterial(_ c: (name: String, certificate: String, key: String, ca: String, message: String)) {
        #expect {
            try TLSMaterial(certificate: c.certificate, key: c.key, clientCA: c.ca, source: "/certs")
        } throws: { error in
            "\(error)" == c.message
        }
    }

    @Test(
        "Dates format as RFC 3339 UTC across eras",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00Z"), (Int64(-1), "1969-12-31T23:59:59Z"),
            (Int64(951_782_400), "2000-02-29T00:00:00Z"), (notAfter, "2060-06-30T12:34:56Z"),
        ])
    func formatsDates(_ c: (Int64, String)) {
        #expect(CertificateValidity.format(c.0) == c.1)
    }
}
