#if canImport(Glibc)
    // <malloc.h> is not part of the Glibc module; both take and return C ints (size_t for the pad).
    @_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
    @_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
    /// `M_ARENA_MAX` from <malloc.h>.
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
    /// Caps the number of malloc arenas (call once at start): a daemon of a few threads gains nothing
    /// from more, and a capped set reuses the memory a previous cycle freed.
    static func limitArenas() {
        #if canImport(Glibc)
            _ = glibcMallopt(mallocArenaMax, 2)
        #endif
    }

    /// Hands freed heap pages back to the system, after a large cycle.
    static func returnFreedMemory() {
        #if canImport(Glibc)
            _ = glibcMallocTrim(0)
        #endif
    }
}
