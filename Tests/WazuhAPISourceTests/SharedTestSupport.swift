/// The shared test support (`Tests/TestSupport`: temporary directories, polling, nats-server, built executables)
/// is visible in every file of this target without an import of its own.
@_exported import NATSTestSupport
