import Foundation

/// A throw-away CA, a server certificate it signed and a client certificate, made with the `openssl` tool.
public struct TestCertificates: Sendable {
    public var directory: String
    public var caCertificatePath: String
    public var caKeyPath: String
    public var serverCertificatePath: String
    public var serverKeyPath: String
    public var clientCertificatePath: String
    public var clientKeyPath: String

    /// Generates EC P-256 keys and certificates in `directory`; the server certificate carries `serverNames`
    /// as subject alternative names (IP addresses become `IP:` entries).
    ///
    /// Asynchronous so that waiting for `openssl` never blocks a thread of the shared concurrency pool.
    public static func generate(
        in directory: String,
        serverNames: [String] = ["localhost", "127.0.0.1"]
    ) async throws -> TestCertificates {
        let certificates = TestCertificates(
            directory: directory,
            caCertificatePath: directory + "/ca.pem",
            caKeyPath: directory + "/ca-key.pem",
            serverCertificatePath: directory + "/server.pem",
            serverKeyPath: directory + "/server-key.pem",
            clientCertificatePath: directory + "/client.pem",
            clientKeyPath: directory + "/client-key.pem")
        let san = serverNames.map { name in
            name.allSatisfy({ $0.isNumber || $0 == "." }) ? "IP:\(name)" : "DNS:\(name)"
        }.joined(separator: ",")
        let serverExtensions = directory + "/server-ext.cnf"
        try "subjectAltName=\(san)\nextendedKeyUsage=serverAuth\n".write(
            toFile: serverExtensions, atomically: true, encoding: .utf8)
        let clientExtensions = directory + "/client-ext.cnf"
        try "extendedKeyUsage=clientAuth\n".write(toFile: clientExtensions, atomically: true, encoding: .utf8)

        try await run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", certificates.caKeyPath, "-out", certificates.caCertificatePath, "-days", "2",
            "-subj", "/CN=wazuh-nats-gateway test CA",
        ])
        for (name, certificate, key, extensions) in [
            ("server", certificates.serverCertificatePath, certificates.serverKeyPath, serverExtensions),
            ("client", certificates.clientCertificatePath, certificates.clientKeyPath, clientExtensions),
        ] {
            let request = directory + "/\(name).csr"
            try await run([
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", request, "-subj", "/CN=\(name)",
            ])
            try await run([
                "x509", "-req", "-in", request, "-CA", certificates.caCertificatePath, "-CAkey",
                certificates.caKeyPath, "-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", extensions,
            ])
        }
        return certificates
    }

    private static func run(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errorPipe = Pipe()
        process.standardError = errorPipe
        try process.run()
        let start = ContinuousClock.now
        while process.isRunning {
            if ContinuousClock.now - start > .seconds(30) {
                process.terminate()
                throw NATSServerProcessError(message: "openssl \(arguments.first ?? "") did not finish within 30 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let errorOutput = errorPipe.fileHandleForReading.readDataToEndOfFile()
        guard process.terminationStatus == 0 else {
            throw NATSServerProcessError(
                message: "openssl \(arguments.first ?? "") failed: \(String(decoding: errorOutput, as: UTF8.self))")
        }
    }
}
