#!/usr/bin/env bash
# build_vs_sort.sh: kvbuild end to end against `LC_ALL=C sort` alone, same
# file, same memory, same threads, side by side in one run (issue 3).
#
#   bench/build_vs_sort.sh [-n LINES] [-k url|random] [-m MEM] [-t THREADS] [-r REPS] [-d DATADIR]
#
# Generates N unsorted lines with ~5% duplicate keys using the deterministic
# bench/cmd/kvgen (same seed -> same bytes), then alternates, REPS times:
#   kvbuild --memory MEM --threads T --force -o DIR FILE
#   LC_ALL=C sort -u -S MEM --parallel=T -T DATADIR -o SORTED FILE
# and prints wall time, CPU time, keys/s, peak RSS (/usr/bin/time -v) and
# size on disk, then the medians. The machine may be shared: compare the
# two columns of one run, not runs of different days.
set -euo pipefail

N=10000000 KEYS=random MEM=2G THREADS=$(nproc) REPS=3 DATA=${TMPDIR:-/tmp}/kvbuild-bench
while getopts "n:k:m:t:r:d:" o; do
	case $o in
	n) N=$OPTARG ;; k) KEYS=$OPTARG ;; m) MEM=$OPTARG ;; t) THREADS=$OPTARG ;;
	r) REPS=$OPTARG ;; d) DATA=$OPTARG ;; *) sed -n 2,14p "$0"; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$DATA"
BIN=$DATA/bin
mkdir -p "$BIN"
(cd "$ROOT" && go build -o "$BIN/kvbuild" ./cmd/kvbuild)
(cd "$ROOT/bench" && go build -o "$BIN/kvgen" ./cmd/kvgen)

IN=$DATA/$KEYS-$N.tsv
if [ ! -s "$IN" ]; then
	echo "generating $IN" >&2
	"$BIN/kvgen" -n "$N" -keys "$KEYS" -dup 0.05 -seed 1 >"$IN.part"
	mv "$IN.part" "$IN"
fi
INSIZE=$(stat -c %s "$IN")
OUT=$DATA/out.kvd
SORTED=$DATA/sorted.tsv
trap 'rm -rf "$OUT" "$SORTED" "$DATA"/.out.kvd.tmp-* "$DATA"/.kvbuild-tmp-* "$DATA"/time.*' EXIT

# measure NAME CMD...: runs CMD under /usr/bin/time -v and prints
# "wall cpu peak_kb" for it.
measure() {
	local log=$DATA/time.$1
	shift
	sync
	/usr/bin/time -v "$@" 2>"$log" >/dev/null || { cat "$log" >&2; exit 1; }
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
		/User time/ { u = $2 } /System time/ { s = $2 }
		/Maximum resident/ { m = $2 }
		END { printf "%.2f %.2f %d\n", w, u + s, m }' "$log"
}

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# input $IN: $N lines, $INSIZE bytes; --memory $MEM, --threads $THREADS"
printf "%-4s %-8s %8s %8s %10s %10s %12s\n" rep tool wall_s cpu_s keys/s peak_MiB disk_MiB
kv_w=() so_w=()
for r in $(seq 1 "$REPS"); do
	read -r w c m < <(measure kvbuild "$BIN/kvbuild" -q --force --memory "$MEM" --threads "$THREADS" -o "$OUT" "$IN")
	keys=$(grep -ao '"keys": *[0-9]*' "$OUT/MANIFEST" | head -1 | grep -o '[0-9]*$')
	disk=$(du -sb "$OUT" | cut -f1)
	printf "%-4s %-8s %8.2f %8.2f %10.0f %10.0f %12.0f\n" "$r" kvbuild "$w" "$c" "$(echo "$keys / $w" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$(echo "$disk / 1048576" | bc -l)"
	kv_w+=("$w")
	read -r w c m < <(measure sort env LC_ALL=C sort -u -S "$MEM" --parallel="$THREADS" -T "$DATA" -o "$SORTED" "$IN")
	disk=$(du -sb "$SORTED" | cut -f1)
	printf "%-4s %-8s %8.2f %8.2f %10.0f %10.0f %12.0f\n" "$r" sort "$w" "$c" "$(echo "$N / $w" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$(echo "$disk / 1048576" | bc -l)"
	so_w+=("$w")
	rm -f "$SORTED"
done
med() { printf "%s\n" "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "median wall: kvbuild $(med "${kv_w[@]}") s, sort $(med "${so_w[@]}") s (keys $keys)"
