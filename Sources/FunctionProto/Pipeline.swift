import FunctionCore

/// Request bytes to response bytes, exactly as the server does it (without
/// logging): the path the fuzzer and the regression tests drive.
public enum Pipeline {
    /// Decodes, composes and encodes; nil when the bytes are not a RunFunctionRequest
    /// (refused up front, or found malformed while composing or encoding).
    public static func run(_ bytes: UnsafeRawBufferPointer, composer: Composer = Composer()) -> [UInt8]? {
        guard let request = try? Wire.decodeRequest(bytes) else { return nil }
        let response = Wire.encodeResponse(composer.run(request))
        return request.decoding?.failure == nil ? response : nil
    }
}
