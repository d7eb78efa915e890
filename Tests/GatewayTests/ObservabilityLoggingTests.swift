import Foundation
import Logging
import Testing

@testable import Gateway

/// Collects log lines written through a `LogOutput`.
final class CapturedLines: @unchecked Sendable {
    // @unchecked: `lines` is only touched while holding `lock`.
    private let lock = NSLock()
    private var lines: [String] = []

    var output: LogOutput {
        LogOutput { line in
            self.lock.lock()
            self.lines.append(line)
            self.lock.unlock()
        }
    }

    var all: [String] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.lines
    }
}

struct ObservabilityLoggingTests {
    @Test func jsonLinesHaveTheDocumentedShape() throws {
        let captured = CapturedLines()
        var logger = Logger(label: "gateway.test") { JSONLogHandler(label: $0, level: .debug, output: captured.output) }
        logger[metadataKey: "component"] = "delivery"
        logger.info(
            "published \"batch\"",
            metadata: ["nats": ["subject": "wazuh.agent.001.status"], "outbox.seq": "42", "line": "clash"])
        let lines = captured.all
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("}\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "gateway.test")
        #expect(object["message"] as? String == "published \"batch\"")
        #expect(object["nats.subject"] as? String == "wazuh.agent.001.status")
        #expect(object["outbox.seq"] as? String == "42")
        #expect(object["component"] as? String == "delivery")
        #expect(object["metadata.line"] as? String == "clash")
        #expect((object["line"] as? Int ?? 0) > 0)
        #expect((object["file"] as? String)?.hasSuffix("ObservabilityLoggingTests.swift") == true)
        #expect(object["function"] as? String != nil)
        let timestamp = try #require(object["ts"] as? String)
        #expect(
            timestamp.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)
    }

    @Test func levelBelowTheHandlerLevelIsDropped() {
        let captured = CapturedLines()
        let logger = Logger(label: "x") { JSONLogHandler(label: $0, level: .warning, output: captured.output) }
        logger.info("quiet")
        logger.warning("loud")
        #expect(captured.all.count == 1)
    }

    @Test func controlCharactersAreEscaped() throws {
        let captured = CapturedLines()
        let logger = Logger(label: "x") { JSONLogHandler(label: $0, output: captured.output) }
        logger.error("line1\nline2\t\u{01}", metadata: ["list": ["a", "b\"c"]])
        let line = try #require(captured.all.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "line1\nline2\t\u{01}")
        #expect(object["list"] as? [String] == ["a", "b\"c"])
    }

    @Test func textLinesAreReadable() throws {
        let captured = CapturedLines()
        let logger = Logger(label: "gateway") { TextLogHandler(label: $0, output: captured.output) }
        logger.notice("connected", metadata: ["nats.url": "nats://127.0.0.1:4222", "note": "two words"])
        let line = try #require(captured.all.first)
        #expect(line.hasSuffix(" notice gateway: connected nats.url=nats://127.0.0.1:4222 note=\"two words\"\n"))
    }

    @Test func handlerFactoryFollowsTheConfiguredFormat() throws {
        let captured = CapturedLines()
        let factory = GatewayLogging.handlerFactory(format: .text, level: .error, output: captured.output)
        let handler = factory("label", nil)
        #expect(handler is TextLogHandler)
        #expect(handler.logLevel == .error)
        #expect(GatewayLogging.handlerFactory(format: .json, level: .info)("l", nil) is JSONLogHandler)
    }

    @Test func timestampsFormatAsRFC3339WithMilliseconds() {
        #expect(LogTimestamp.format(seconds: 0, milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(LogTimestamp.format(seconds: 1_796_019_304, milliseconds: 123) == "2026-11-30T06:15:04.123Z")
    }
}
