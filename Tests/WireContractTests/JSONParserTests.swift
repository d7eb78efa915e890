import Testing

@testable import WireContract

struct JSONParserTests {
    func parse(_ text: String, _ parser: JSONParser = JSONParser()) throws(JSONParseError) -> JSONValue {
        try parser.parse(Array(text.utf8))
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try self.parse(#" { "a" : [1, -2, 3.5, 1e2, true, false, null, "x\u00e9\ud83d\ude00"], "b": {} } "#)
        #expect(
            value
                == .object([
                    "a": .array([
                        .int(1), .int(-2), .double(3.5), .double(100), .bool(true), .bool(false), .null, .string("xé😀"),
                    ]),
                    "b": .object([:]),
                ]))
        #expect(try self.parse("9223372036854775807") == .int(.max))
        #expect(try self.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
    }

    @Test func canonicalOutputParsesBackToTheSameValue() throws {
        let event = SampleEvents.quoted.signed(with: try SampleEvents.signingKey())
        let parsed = try JSONParser().parse(event.canonicalJSON())
        #expect(parsed == .object(event.jsonObject))
        #expect(try AgentStatusEvent(jsonObject: parsed.objectValue ?? [:]) == event)
    }

    @Test func malformedInputIsATypedError() {
        let cases: [(String, JSONParseError.Code)] = [
            ("", .unexpectedEnd), ("{", .unexpectedEnd), ("[1,", .unexpectedEnd), ("\"abc", .unexpectedEnd),
            ("{\"a\" 1}", .unexpectedByte), ("[1 2]", .unexpectedByte), ("tru", .unexpectedEnd),
            ("nul!", .unexpectedByte),
            ("01", .trailingData), ("1.", .invalidNumber), ("-", .unexpectedEnd), ("1e", .invalidNumber),
            (".5", .unexpectedByte),
            ("1e999", .invalidNumber), ("\"\\x\"", .invalidString), ("\"\\ud800\"", .invalidString),
            ("\"\\udc00\"", .invalidString), ("\"a\nb\"", .invalidString), ("{\"a\":1,\"a\":2}", .duplicateKey),
            ("[1] x", .trailingData), ("{,}", .unexpectedByte), ("[,]", .unexpectedByte),
            ("{\"a\":1,}", .unexpectedByte),
        ]
        for (text, expected) in cases {
            let error = #expect(throws: JSONParseError.self, "\(text.debugDescription)") { try self.parse(text) }
            #expect(error?.code == expected, "\(text.debugDescription)")
        }
    }

    @Test func invalidUTF8IsRefused() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
        ] {
            let error = #expect(throws: JSONParseError.self) { try JSONParser().parse(bytes) }
            #expect(error?.code == .invalidString)
        }
    }

    @Test func depthAndSizeLimitsHold() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JSONParseError.self) { try self.parse(deep) }
        #expect(error?.code == .tooDeep)
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try self.parse(ok) }
        let tooDeepByOne = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: JSONParseError.self) { try self.parse(tooDeepByOne) }
        let big = "\"" + String(repeating: "a", count: 2000) + "\""
        let sizeError = #expect(throws: JSONParseError.self) { try self.parse(big, JSONParser(maximumBytes: 1000)) }
        #expect(sizeError?.code == .tooLarge)
    }

    @Test func randomBytesAndMutationsNeverCrash() throws {
        var generator = SystemRandomNumberGenerator()
        let seed = SampleEvents.quoted.signed(with: try SampleEvents.signingKey()).canonicalJSON()
        let alphabet = Array("{}[]\",:\\u0123456789eE.+-truefalsnl ".utf8)
        for round in 0..<3000 {
            var input = seed
            if round % 3 == 0 {
                input = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator) ?? 0
                }
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<input.count, using: &generator)
                    input[index] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            _ = try? JSONParser(maximumBytes: 4096, maximumDepth: 8).parse(input)
        }
    }
}
