import CYAML
import FunctionCore

/// A YAML syntax or structure error, with its 1-based position.
public struct YAMLError: Error, CustomStringConvertible, Equatable {
    /// What is wrong.
    public var message: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// `line L, column C: message`.
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// Parses YAML streams into core values, through libyaml's event API.
public enum YAML {
    /// Aliases may expand to at most this many nodes in one document: a guard
    /// against "billion laughs" inputs that would otherwise exhaust memory.
    static let maxAliasExpansion = 100_000

    /// Collections may nest at most this deep: the builder recurses, so a
    /// hostile file of 100,000 `[` must be an error, not a stack overflow.
    static let maxDepth = 256

    /// Every document of a stream, in order (an empty stream has none).
    public static func parseStream(_ text: String) throws -> [Value] {
        let parser = EventParser(text)
        var documents: [Value] = []
        try parser.expect(YAML_STREAM_START_EVENT)
        while true {
            let event = try parser.next()
            let position = parser.error("expected a document")
            yaml_event_delete(&parser.event)
            if event == YAML_STREAM_END_EVENT { break }
            guard event == YAML_DOCUMENT_START_EVENT else { throw position }
            var builder = Builder(parser: parser)
            let root = try builder.node()
            try parser.expect(YAML_DOCUMENT_END_EVENT)
            documents.append(root)
        }
        return documents
    }

    /// Exactly one document.
    public static func parseDocument(_ text: String) throws -> Value {
        let docs = try parseStream(text)
        guard docs.count == 1 else {
            throw YAMLError(message: "expected one YAML document, found \(docs.count)", line: 1, column: 1)
        }
        return docs[0]
    }
}

/// Owns a libyaml parser and the current event; frees both.
final class EventParser {
    var parser = yaml_parser_t()
    var event = yaml_event_t()
    /// libyaml reads from this buffer until the parser is deleted, so it is owned here.
    private let input: UnsafeMutableBufferPointer<UInt8>

    init(_ text: String) {
        let bytes = Array(text.utf8)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        yaml_parser_initialize(&parser)
        yaml_parser_set_input_string(&parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_event_delete(&event)
        yaml_parser_delete(&parser)
        input.deallocate()
    }

    /// Reads the next event into `event`; the caller deletes it.
    func next() throws -> yaml_event_type_t {
        guard yaml_parser_parse(&parser, &event) == 1 else {
            let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
            let context = parser.context.map { String(cString: $0) + ": " } ?? ""
            throw YAMLError(
                message: context + problem, line: Int(parser.problem_mark.line) + 1,
                column: Int(parser.problem_mark.column) + 1)
        }
        return event.type
    }

    func expect(_ type: yaml_event_type_t) throws {
        let got = try next()
        let position = error("unexpected YAML structure")
        yaml_event_delete(&event)
        guard got == type else { throw position }
    }

    func error(_ message: String) -> YAMLError {
        YAMLError(message: message, line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
    }
}

/// Builds one document's value from events.
struct Builder {
    let parser: EventParser
    var anchors: [String: Value] = [:]
    var expanded = 0
    var depth = 0

    init(parser: EventParser) { self.parser = parser }

    /// The node whose first event is next.
    mutating func node() throws -> Value {
        let type = try parser.next()
        return try node(startingWith: type)
    }

    /// Builds the node whose first event (of `type`) is in `parser.event`.
    /// Each event is deleted as soon as its data is copied out.
    private mutating func node(startingWith type: yaml_event_type_t) throws -> Value {
        let position = parser.error("")
        func fail(_ message: String) -> YAMLError {
            YAMLError(message: message, line: position.line, column: position.column)
        }
        switch type {
        case YAML_SCALAR_EVENT:
            let e = parser.event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: e.value, count: e.length), as: UTF8.self)
            let tag = e.tag.map { String(cString: $0) }
            let anchor = e.anchor.map { String(cString: $0) }
            let plain = e.plain_implicit == 1
            yaml_event_delete(&parser.event)
            let value = try scalar(text, plain: plain, tag: tag, position)
            if let anchor { anchors[anchor] = value }
            return value
        case YAML_SEQUENCE_START_EVENT:
            let anchor = parser.event.data.sequence_start.anchor.map { String(cString: $0) }
            yaml_event_delete(&parser.event)
            try enterCollection(position)
            defer { depth -= 1 }
            var items: [Value] = []
            while true {
                let t = try parser.next()
                if t == YAML_SEQUENCE_END_EVENT {
                    yaml_event_delete(&parser.event)
                    break
                }
                items.append(try node(startingWith: t))
            }
            let value = Value.list(items)
            if let anchor { anchors[anchor] = value }
            return value
        case YAML_MAPPING_START_EVENT:
            let anchor = parser.event.data.mapping_start.anchor.map { String(cString: $0) }
            yaml_event_delete(&parser.event)
            try enterCollection(position)
            defer { depth -= 1 }
            // Pairs in document order, then sorted once: inserting one by one into
            // sorted fields would be quadratic in a hostile mapping's size.
            var pairs: [(String, Value)] = []
            var seen = Set<String>()
            while true {
                let t = try parser.next()
                if t == YAML_MAPPING_END_EVENT {
                    yaml_event_delete(&parser.event)
                    break
                }
                let keyPosition = parser.error("")
                let key = try node(startingWith: t)
                let k: String
                switch key {
                case .string(let s): k = s
                case .int(let i): k = String(i)
                case .bool(let b): k = b ? "true" : "false"
                default:
                    throw YAMLError(
                        message: "mapping keys must be scalars", line: keyPosition.line, column: keyPosition.column)
                }
                guard seen.insert(k).inserted else {
                    throw YAMLError(
                        message: "duplicate mapping key \(quote(k))", line: keyPosition.line, column: keyPosition.column
                    )
                }
                pairs.append((k, try node()))
            }
            let value = Value.object(Fields(lastWins: pairs))
            if let anchor { anchors[anchor] = value }
            return value
        case YAML_ALIAS_EVENT:
            let name = String(cString: parser.event.data.alias.anchor)
            yaml_event_delete(&parser.event)
            guard let value = anchors[name] else { throw fail("unknown alias *\(name)") }
            expanded += value.nodeCount
            if expanded > YAML.maxAliasExpansion {
                throw fail("aliases expand to more than \(YAML.maxAliasExpansion) nodes")
            }
            return value
        default:
            yaml_event_delete(&parser.event)
            throw fail("unexpected YAML event")
        }
    }

    /// Counts one more level of nesting, refusing hostile depths.
    private mutating func enterCollection(_ position: YAMLError) throws {
        depth += 1
        if depth > YAML.maxDepth {
            throw YAMLError(
                message: "collections nest deeper than \(YAML.maxDepth) levels",
                line: position.line, column: position.column)
        }
    }

    private func scalar(_ text: String, plain: Bool, tag: String?, _ error: YAMLError) throws -> Value {
        switch tag {
        case nil, "!": return plain ? CoreSchema.resolve(text) : .string(text)
        case "tag:yaml.org,2002:str": return .string(text)
        case "tag:yaml.org,2002:null": return .null
        case "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float":
            let v = CoreSchema.resolve(text)
            if v.isNull || v.stringValue != nil {
                throw YAMLError(
                    message: "\(quote(text)) does not match its tag \(tag!)", line: error.line, column: error.column)
            }
            return v
        default:
            return plain ? CoreSchema.resolve(text) : .string(text)
        }
    }
}

extension Value {
    /// Nodes in this value, counting itself.
    var nodeCount: Int {
        switch self {
        case .list(let items): return 1 + items.reduce(0) { $0 + $1.nodeCount }
        case .object(let fields): return 1 + fields.values.reduce(0) { $0 + $1.nodeCount }
        default: return 1
        }
    }
}
