#if canImport(Glibc)
    import Glibc

    // <malloc.h> is not part of the Glibc module; both take and return C ints (size_t for the pad).
    @_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
    @_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
    /// `M_TRIM_THRESHOLD`, `M_MMAP_THRESHOLD` and `M_ARENA_MAX` from <malloc.h>.
    private let mallocTrimThreshold: Int32 = -1
    private let mallocMmapThreshold: Int32 = -3
    private let mallocArenaMax: Int32 = -8
#endif

/// How the daemon keeps glibc's allocator from holding on to a large cycle's memory.
///
/// The gateway's memory peaks in rare, large detection cycles (a manager restart turns a whole fleet
/// over in one commit). glibc gives every thread that allocates concurrently its own arena and keeps
/// freed memory in it; the cooperative pool runs successive cycles on different threads, so each
/// arena kept its own high-water mark and the resident size became their sum (measured in the 100k-event
/// outage soak: two arenas of 21 and 18 MiB while the heap in use was a fraction of that).
enum HeapReturn {
    /// The size from which a block is mapped on its own (and unmapped when freed) rather than carved
    /// out of an arena. glibc starts at this value but raises it to the largest block freed so far
    /// (up to 32 MiB), after which a storm cycle's buffers (row arrays, batch parts, the snapshot)
    /// stay in the arena and keep its pages; fixing it keeps those buffers out of the arenas.
    static let mmapThreshold: Int32 = 128 * 1024
    /// Free memory at the top of an arena above which glibc returns it at once (fixed for the same reason).
    static let trimThreshold: Int32 = 128 * 1024

    /// Sets the allocator up for a long-running daemon (call once, at start): one arena, shared by the
    /// few threads, so the memory one cycle freed is reused by the next whatever thread runs it, and
    /// fixed mapping and trimming thresholds. An operator's `GLIBC_TUNABLES` for malloc takes precedence.
    static func limitArenas() {
        #if canImport(Glibc)
            if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("glibc.malloc.") { return }
            _ = glibcMallopt(mallocArenaMax, 1)
            _ = glibcMallopt(mallocMmapThreshold, mmapThreshold)
            _ = glibcMallopt(mallocTrimThreshold, trimThreshold)
        #endif
    }

    /// Hands freed heap pages back to the system, after a large cycle.
    static func returnFreedMemory() {
        #if canImport(Glibc)
            _ = glibcMallocTrim(0)
        #endif
    }
}
