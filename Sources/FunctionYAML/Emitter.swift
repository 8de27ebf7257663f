import CYAML
import FunctionCore

extension YAML {
    /// Canonical YAML for a stream of documents: keys sorted by UTF-8 bytes,
    /// block style, `---` before every document, and any string that would read
    /// back as another type (`"true"`, `"1"`, `"null"`, `""`) quoted.
    public static func emit(_ documents: [Value]) -> String {
        let emitter = EventEmitter()
        emitter.emit { e in yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING) }
        for doc in documents {
            emitter.emit { e in yaml_document_start_event_initialize(&e, nil, nil, nil, 0) }
            emitter.value(doc)
            emitter.emit { e in yaml_document_end_event_initialize(&e, 1) }
        }
        emitter.emit { e in yaml_stream_end_event_initialize(&e) }
        return emitter.finish()
    }

    /// One document.
    public static func emit(_ document: Value) -> String { emit([document]) }
}

/// Owns a libyaml emitter writing into a Swift buffer; frees it.
final class EventEmitter {
    private var emitter = yaml_emitter_t()
    private let output = OutputBuffer()

    /// Collects what libyaml writes.
    final class OutputBuffer {
        var bytes: [UInt8] = []
    }

    init() {
        yaml_emitter_initialize(&emitter)
        yaml_emitter_set_unicode(&emitter, 1)
        yaml_emitter_set_width(&emitter, -1)
        yaml_emitter_set_indent(&emitter, 2)
        yaml_emitter_set_output(
            &emitter,
            { context, buffer, size in
                let out = Unmanaged<OutputBuffer>.fromOpaque(context!).takeUnretainedValue()
                out.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, Unmanaged.passUnretained(output).toOpaque())
    }

    deinit {
        yaml_emitter_delete(&emitter)
    }

    /// Emits one event. Our own events are always well formed, so a failure is a bug here.
    func emit(_ make: (inout yaml_event_t) -> Int32) {
        var event = yaml_event_t()
        precondition(make(&event) == 1, "libyaml could not build an event")
        precondition(
            yaml_emitter_emit(&emitter, &event) == 1,
            "libyaml emitter failed: \(emitter.problem.map { String(cString: $0) } ?? "unknown")")
    }

    func value(_ v: Value) {
        switch v {
        case .null: scalar("null", style: YAML_PLAIN_SCALAR_STYLE)
        case .bool(let b): scalar(b ? "true" : "false", style: YAML_PLAIN_SCALAR_STYLE)
        case .int(let i): scalar(String(i), style: YAML_PLAIN_SCALAR_STYLE)
        case .double(let d): scalar(Self.format(d), style: YAML_PLAIN_SCALAR_STYLE)
        case .string(let s): string(s)
        case .list(let items):
            emit { e in yaml_sequence_start_event_initialize(&e, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE) }
            for item in items { value(item) }
            emit { e in yaml_sequence_end_event_initialize(&e) }
        case .object(let fields):
            let style = fields.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
            emit { e in yaml_mapping_start_event_initialize(&e, nil, nil, 1, style) }
            for (key, field) in fields {
                string(key)
                value(field)
            }
            emit { e in yaml_mapping_end_event_initialize(&e) }
        }
    }

    /// A string: plain when it reads back as the same string, a literal block for
    /// multi-line text, double-quoted otherwise. libyaml itself falls back to a
    /// quoted style when plain is not allowed (leading spaces, ": ", "#", …).
    private func string(_ s: String) {
        if s.contains("\n") {
            // Literal blocks cannot carry trailing spaces on a line or most control characters.
            let literalSafe =
                !s.contains(" \n") && !s.hasSuffix(" ")
                && !s.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }
            scalar(s, style: literalSafe ? YAML_LITERAL_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        } else if CoreSchema.resolve(s) == .string(s) && !YAML11.readsAsNonString(s) {
            scalar(s, style: YAML_PLAIN_SCALAR_STYLE)
        } else {
            scalar(s, style: YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        }
    }

    private func scalar(_ text: String, style: yaml_scalar_style_t) {
        var bytes = Array(text.utf8)
        let count = bytes.count
        bytes.withUnsafeMutableBufferPointer { buf in
            emit { e in
                yaml_scalar_event_initialize(&e, nil, nil, buf.baseAddress, Int32(count), 1, 1, style)
            }
        }
    }

    static func format(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        let s = "\(d)"
        // Swift prints 1e+300 as "1e+300", which the core schema reads back as a float.
        return s
    }

    func finish() -> String {
        _ = yaml_emitter_flush(&emitter)
        return String(decoding: output.bytes, as: UTF8.self)
    }
}
