import Foundation
import Testing

@testable import Gateway

/// Mangled configuration files must be refused with `ConfigurationErrors`, never crash the loader,
/// and never echo a secret that was in the file.
struct ConfigurationRobustnessTests {
    /// A small deterministic generator (SplitMix64) so failures reproduce.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func mangledFilesAreRefusedCleanly() throws {
        let base = try String(contentsOfFile: RepositoryFiles.root + "/config/gateway.example.yaml", encoding: .utf8)
            .replacingOccurrences(of: "  password: null", with: "  password: \"Sekr1t-Value\"")
            .replacingOccurrences(of: "  user: null", with: "  user: gateway")
        let alphabet = Array(" :\"'-\n\t#{}[]&*!|>%@`,0123456789abcxyz~")
        var generator = SplitMix64(state: 0x5EED)
        for _ in 0..<300 {
            var characters = Array(base)
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let index = Int.random(in: 0..<characters.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: characters.remove(at: index)
                case 1: characters.insert(alphabet.randomElement(using: &generator) ?? " ", at: index)
                default: characters[index] = alphabet.randomElement(using: &generator) ?? " "
                }
            }
            let text = String(characters)
            do {
                let configuration = try GatewayConfiguration.load(yaml: text, environment: [:])
                #expect(!configuration.effectiveDescription().contains("Sekr1t-Value"))
            } catch let errors as ConfigurationErrors {
                #expect(!errors.errors.isEmpty)
                #expect(!errors.description.contains("Sekr1t-Value"), "secret echoed for input:\n\(text)")
            }
        }
    }
}
