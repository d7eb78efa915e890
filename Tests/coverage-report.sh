#!/usr/bin/env bash
# Line coverage per target of the last `swift test --enable-code-coverage` run (see `make coverage`):
# prints a table (one row per Sources/ target, then the total) and writes text and HTML reports under
# .build/coverage/. The figures cover the library code the test binary runs in-process; code that only
# runs inside the spawned `wazuh-nats-gateway` executable is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."

bin_path="$(swift build --show-bin-path)"
profdata="$bin_path/codecov/default.profdata"
tests="$bin_path/wazuh-nats-gatewayPackageTests.xctest"
if [ ! -f "$profdata" ] || [ ! -f "$tests" ]; then
    echo "coverage: no coverage data ($profdata); run 'make coverage' first" >&2
    exit 1
fi
# The toolchain's own llvm-cov: a system one (Debian's LLVM) cannot read Swift's newer profile format.
swift_bin="$(dirname "$(readlink -f "$(command -v swift)")")"
llvm_cov="$swift_bin/llvm-cov"
[ -x "$llvm_cov" ] || llvm_cov="$(command -v llvm-cov)"
out=".build/coverage"
mkdir -p "$out"
ignore='(\.build|/Tests/|/Benchmarks/|/Fuzz/)'

"$llvm_cov" export "$tests" -instr-profile="$profdata" -summary-only -ignore-filename-regex="$ignore" \
    > "$out/summary.json"
"$llvm_cov" report "$tests" -instr-profile="$profdata" -ignore-filename-regex="$ignore" > "$out/report.txt"
"$llvm_cov" show "$tests" -instr-profile="$profdata" -ignore-filename-regex="$ignore" \
    -format=html -output-dir="$out/html" >/dev/null

python3 - "$out/summary.json" "$PWD/Sources/" <<'PY' | tee "$out/targets.txt"
import json, sys
summary, root = sys.argv[1], sys.argv[2]
totals = {}
for entry in json.load(open(summary))["data"]:
    for f in entry["files"]:
        name = f["filename"]
        if not name.startswith(root):
            continue
        target = name[len(root):].split("/", 1)[0]
        lines = f["summary"]["lines"]
        count, covered = totals.get(target, (0, 0))
        totals[target] = (count + lines["count"], covered + lines["covered"])
print(f"{'target':<20} {'lines':>8} {'covered':>8} {'cover':>7}")
all_count = all_covered = 0
for target in sorted(totals):
    count, covered = totals[target]
    all_count += count
    all_covered += covered
    print(f"{target:<20} {count:>8} {covered:>8} {100.0 * covered / max(count, 1):>6.1f}%")
print(f"{'total':<20} {all_count:>8} {all_covered:>8} {100.0 * all_covered / max(all_count, 1):>6.1f}%")
PY
echo "coverage: text report $out/report.txt, HTML $out/html/index.html"
