import ArgumentParser
import Foundation
import Gateway
import GatewayCommands

/// `keygen --out FILE [--bytes 32] [--force]`: writes a random base64 key with mode 0600.
struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a random signing or encryption key (base64, file mode 0600)."
    )

    @Option(name: .long, help: "Path of the key file to create.")
    var out: String

    @Option(name: .long, help: "Key length in bytes (32 to 1024; the encryption key must be exactly 32).")
    var bytes: Int = 32

    @Flag(name: .long, help: "Replace an existing file.")
    var force = false

    func run() async throws {
        do {
            try KeyGenerator.generate(at: self.out, byteCount: self.bytes, overwrite: self.force)
        } catch {
            FileHandle.standardError.write(Data("keygen: \(error)\n".utf8))
            throw ExitCode.failure
        }
        FileHandle.standardError.write(Data("wrote a \(self.bytes)-byte key to \(self.out) (mode 0600)\n".utf8))
    }
}
