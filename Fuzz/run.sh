#!/usr/bin/env bash
# Builds a libFuzzer target (release, -sanitize=fuzzer, lld) and runs it for a bounded time.
# Usage: Fuzz/run.sh [SECONDS] [TARGET]   (defaults: 60 s, NATSParserFuzz; TARGET may be NATSAuthFuzz or WireContractFuzz)
# Crashes go to Fuzz/.build/artifacts/, the growing corpus to Fuzz/.build/corpus-TARGET (both git-ignored).
set -euo pipefail

seconds="${1:-60}"
target="${2:-NATSParserFuzz}"
here="$(cd "$(dirname "$0")" && pwd)"

case "$target" in
    NATSParserFuzz) seeds="$here/corpus/parser" ;;
    NATSAuthFuzz) seeds="$here/corpus/auth" ;;
    WireContractFuzz) seeds="$here/corpus/json" ;;
    *) echo "unknown target: $target (NATSParserFuzz, NATSAuthFuzz or WireContractFuzz)" >&2; exit 2 ;;
esac

cd "$here"
swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --product "$target"
binary="$(swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --show-bin-path)/$target"

work="$here/.build/corpus-$target"
mkdir -p "$work" "$here/.build/artifacts"
"$binary" "$work" "$seeds" \
    -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=5 -max_len=65536 \
    -artifact_prefix="$here/.build/artifacts/" -print_final_stats=1
