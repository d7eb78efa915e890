import NATSClient

/// Connects with `options`, runs `body` with the connection, and closes it however `body` ends.
public func withNATSConnection<T>(
    _ options: NATSConnectionOptions, isolation: isolated (any Actor)? = #isolation,
    _ body: (NATSConnection) async throws -> T
) async throws -> T {
    let connection = try await NATSConnection.connect(options: options)
    do {
        let result = try await body(connection)
        await connection.close()
        return result
    } catch {
        await connection.close()
        throw error
    }
}
