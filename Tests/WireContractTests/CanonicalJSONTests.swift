import Foundation
import Testing

@testable import WireContract

struct CanonicalJSONTests {
    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical (ECMAScript) spelling.
    static let rfc8785NumberSamples: [(UInt64, String)] = [
        (0x0000_0000_0000_0000, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
        (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
        (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
        (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
        (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"),
        (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"),
        (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"),
        (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
    ]

    @Test(arguments: rfc8785NumberSamples.indices)
    func numbersFollowRFC8785AppendixB(index: Int) throws {
        let (bits, expected) = Self.rfc8785NumberSamples[index]
        let value = JSONValue.double(Double(bitPattern: bits))
        #expect(try CanonicalJSON.string(value) == expected)
    }

    @Test func moreNumberLayouts() throws {
        let cases: [(Double, String)] = [
            (1, "1"), (-1, "-1"), (0.5, "0.5"), (100, "100"), (1e20, "100000000000000000000"),
            (1e21, "1e+21"), (1.5e21, "1.5e+21"), (1e-6, "0.000001"), (1e-7, "1e-7"), (1.25e-7, "1.25e-7"),
            (123.456, "123.456"), (0.1, "0.1"), (-0.0, "0"), (4.5, "4.5"), (2e-3, "0.002"), (1e30, "1e+30"),
        ]
        for (number, expected) in cases {
            #expect(try CanonicalJSON.string(.double(number)) == expected, "\(number)")
        }
        #expect(try CanonicalJSON.string(.int(-9_223_372_036_854_775_808)) == "-9223372036854775808")
        #expect(throws: CanonicalJSON.SerializationError.self) { try CanonicalJSON.serialize(.double(.nan)) }
        #expect(throws: CanonicalJSON.SerializationError.self) { try CanonicalJSON.serialize(.double(.infinity)) }
    }

    @Test func keysSortByUTF16CodeUnitsAsInRFC8785() throws {
        let object: JSONValue = .object([
            "\u{20AC}": .string("Euro Sign"),
            "\r": .string("Carriage Return"),
            "\u{FB33}": .string("Hebrew Letter Dalet With Dagesh"),
            "1": .string("One"),
            "\u{1F600}": .string("Emoji: Grinning Face"),
            "\u{0080}": .string("Control"),
            "\u{00F6}": .string("Latin Small Letter O With Diaeresis"),
        ])
        let expected =
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{0080}\":\"Control\","
            + "\"\u{00F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try CanonicalJSON.string(object) == expected)
    }

    @Test func keyOrderEqualsUTF16OrderIncludingSurrogateEdgeCases() {
        let keys = [
            "", "a", "ab", "b", "\u{7F}", "\u{80}", "é", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FB33}",
            "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{10FFFF}", "a\u{E000}", "a\u{1F600}", "\u{1F600}a", "\u{E000}a",
        ]
        for lhs in keys {
            for rhs in keys {
                #expect(
                    CanonicalJSON.utf16Less(lhs, rhs) == lhs.utf16.lexicographicallyPrecedes(rhs.utf16),
                    "\(lhs.unicodeScalars.map(\.value)) vs \(rhs.unicodeScalars.map(\.value))")
            }
        }
    }

    @Test func rfc8785MainExampleRoundTripsThroughParser() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let value = try JSONParser().parse(Array(input.utf8))
        let expected =
            #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#
            + #""string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(try CanonicalJSON.string(value) == expected)
    }

    @Test func stringEscapingMatchesJCS() throws {
        let text = "q\"b\\\u{08}\u{09}\u{0A}\u{0C}\u{0D}\u{00}\u{01}\u{1F}\u{7F}\u{2028}\u{2029}é😀/"
        let expected = "\"q\\\"b\\\\\\b\\t\\n\\f\\r\\u0000\\u0001\\u001f\u{7F}\u{2028}\u{2029}é😀/\""
        #expect(try CanonicalJSON.string(.string(text)) == expected)
    }

    /// Hard-coded from Python: `json.dumps(o, sort_keys=True, separators=(",",":"), ensure_ascii=False)`.
    @Test func eventShapeMatchesPythonVector() throws {
        let event = SampleEvents.quoted
        let expected =
            #"{"agent_id":"001","agent_name":"web-\"srv\"\t01 😀 "# + "\u{2028}"
            + #" é","current_status":"Disconnected","event_id":"evt_001_1716897300_0123456789abcdef","#
            + #""event_type":"status_change","ip_address":"10.0.0.5","last_keepalive":"2024-05-28T11:55:00Z","#
            + #""manager_node":"node01","node_name":null,"previous_status":"Active","reason":"keepalive_timeout","#
            + #""timestamp":"2024-05-28T12:00:00Z"}"#
        #expect(String(decoding: event.canonicalJSON(), as: UTF8.self) == expected)
    }

    /// Live parity with Python's json module for event-shaped objects with hostile strings.
    /// Runs only where `python3` exists (the CI machine has it).
    @Test(.enabled(if: PythonRunner.isAvailable))
    func eventShapesMatchPythonJSONDumps() throws {
        let awkward = [
            "plain", "", "quote\"s", "back\\slash", "ctl\u{00}\u{01}\u{1F}\u{7F}", "nl\n\r\t\u{08}\u{0C}",
            "\u{2028}\u{2029}", "😀 non-BMP 𝄞", "ünïcödé", "</script>", "\u{FEFF}bom", "a/b",
        ]
        var objects = [JSONValue]()
        for (index, text) in awkward.enumerated() {
            var event = SampleEvents.quoted
            event.agentName = text
            event.ipAddress = index.isMultiple(of: 2) ? nil : text
            event.reason = text
            objects.append(.object(event.jsonObject))
        }
        objects.append(.object(["b": .int(2), "a": .array([.int(1), .bool(true), .null]), "\u{1F600}": .string("x")]))
        // One Python run: each input line is one of our canonical texts; Python re-serializes it.
        let ours = try objects.map { try CanonicalJSON.string($0) }
        let python = try PythonRunner.run(
            "import json,sys\n"
                + "for line in sys.stdin.read().split('\\n'):\n"
                + "    o = json.loads(line)\n"
                + "    sys.stdout.write(json.dumps(o, sort_keys=True, separators=(',',':'), ensure_ascii=False) + '\\n')\n",
            input: Array(ours.joined(separator: "\n").utf8))
        let theirs = String(decoding: python, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(theirs.count == ours.count + 1)
        for (index, text) in ours.enumerated() where index < theirs.count {
            #expect(String(theirs[index]) == text)
        }
    }
}
