#!/usr/bin/env bash
# compression_build.sh: kvbuild --compression zstd against --compression
# none on the same files, for one or two kvbuild binaries (before/after a
# change), interleaved in one run (issue 9's build-time target).
#
#   bench/compression_build.sh REPS KVBUILD[,KVBUILD2] FILE...
#
# For each FILE, REPS times: for each binary, for none and zstd:
#   KVBUILD -q --force --compression C -o DIR FILE
# printing wall, user and system seconds and peak RSS (/usr/bin/time), then
# each dictionary's bytes per key (kvlookup info from PATH, or the binary's
# directory). Take medians per column; compare zstd with none of the same
# binary and run. Run it under `flock /work/bench.lock` on a shared machine.
set -euo pipefail

[ $# -ge 3 ] || { sed -n 2,13p "$0"; exit 2; }
REPS=$1 BINS=$2
shift 2
OUT=$(mktemp -d "${TMPDIR:-/tmp}/compression-build.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
IFS=, read -r -a bins <<<"$BINS"
lookup=$(command -v kvlookup || echo "$(dirname "${bins[0]}")/kvlookup")
for f in "$@"; do
	for _ in $(seq "$REPS"); do
		for i in "${!bins[@]}"; do
			for c in none zstd; do
				/usr/bin/time -f "$(basename "$f") bin$i $c %e s %U u %S s %M KB" \
					"${bins[$i]}" -q --force --compression "$c" -o "$OUT/bin$i-$c.kvd" "$f"
			done
		done
	done
	for i in "${!bins[@]}"; do
		for c in none zstd; do
			"$lookup" info "$OUT/bin$i-$c.kvd" | awk -v l="$(basename "$f") bin$i $c size" \
				'/^keys/ {k=$2} /^size/ {t=$2} END {printf "%s %d bytes %d keys %.2f B/key\n", l, t, k, t/k}'
		done
	done
done
