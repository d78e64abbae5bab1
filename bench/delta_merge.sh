#!/usr/bin/env bash
# delta_merge.sh: kvbuild --base (delta merge with deletions) against a full
# rebuild from the combined input, same machine, same run (issue 12).
#
#   bench/delta_merge.sh [-n LINES] [-k url|random] [-f "0.001 0.01 0.1"] [-m MEM] [-t THREADS] [-r REPS] [-d DATADIR]
#
# Generates the base input with the deterministic bench/cmd/kvgen (N lines,
# ~5% duplicate keys, --duplicates last) and builds the base once. For each
# delta fraction F: a delta of F*N lines (half updates of base keys, half
# new keys from another seed) and a delete list of F*N/10 base keys. Then,
# REPS times, alternating:
#   merge:   kvbuild --base BASE --delete DELS -o NEW DELTA
#   rebuild: kvbuild -o FULL KEPT DELTA     (KEPT = base input minus DELS)
# printing wall time, CPU time and peak RSS (/usr/bin/time -v), and checks
# that both dictionaries dump identically. The machine may be shared:
# compare columns of one run.
set -euo pipefail

N=10000000 KEYS=url FRACS="0.001 0.01 0.1" MEM=2G THREADS=$(nproc) REPS=3 DATA=${TMPDIR:-/tmp}/kvdelta-bench
while getopts "n:k:f:m:t:r:d:" o; do
	case $o in
	n) N=$OPTARG ;; k) KEYS=$OPTARG ;; f) FRACS=$OPTARG ;; m) MEM=$OPTARG ;; t) THREADS=$OPTARG ;;
	r) REPS=$OPTARG ;; d) DATA=$OPTARG ;; *) sed -n 2,16p "$0"; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$DATA/bin
mkdir -p "$BIN"
(cd "$ROOT" && go build -o "$BIN/kvbuild" ./cmd/kvbuild && go build -o "$BIN/kvlookup" ./cmd/kvlookup)
(cd "$ROOT/bench" && go build -o "$BIN/kvgen" ./cmd/kvgen)
trap 'rm -rf "$DATA"/new.kvd "$DATA"/full.kvd "$DATA"/.*.tmp-* "$DATA"/.kvbuild-tmp-* "$DATA"/time.*' EXIT

IN=$DATA/$KEYS-$N.tsv
if [ ! -s "$IN" ]; then
	"$BIN/kvgen" -n "$N" -keys "$KEYS" -dup 0.05 -seed 1 >"$IN.part"
	mv "$IN.part" "$IN"
fi
BASE=$DATA/base-$KEYS-$N.kvd
[ -d "$BASE" ] || "$BIN/kvbuild" -q --memory "$MEM" --threads "$THREADS" -o "$BASE" "$IN"

measure() { # measure NAME CMD... -> "wall cpu peak_kb"
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
med() { printf "%s\n" "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# base $BASE from $IN ($N lines); --memory $MEM, --threads $THREADS; commit $(cd "$ROOT" && git rev-parse --short HEAD)"
printf "%-7s %-4s %-8s %8s %8s %10s\n" frac rep tool wall_s cpu_s peak_MiB
for F in $FRACS; do
	D=$(awk -v n="$N" -v f="$F" 'BEGIN { printf "%d", n * f }')
	DELTA=$DATA/delta-$F.tsv DELS=$DATA/dels-$F.txt KEPT=$DATA/kept-$F.tsv
	# Updates: every k-th base line with a new value; new keys: another seed.
	awk -F'\t' -v k=$((N / (D / 2))) -v lim=$((D / 2)) 'NR % k == 1 && c++ < lim { print $1 "\tupdated-" NR }' "$IN" >"$DELTA"
	"$BIN/kvgen" -n $((D / 2)) -keys "$KEYS" -dup 0 -seed 7 >>"$DELTA"
	awk -F'\t' -v k=$((N / (D / 10 + 1))) -v lim=$((D / 10)) 'NR % k == 3 && c++ < lim { print $1 }' "$IN" >"$DELS"
	awk -F'\t' 'NR == FNR { del[$1] = 1; next } !($1 in del)' "$DELS" "$IN" >"$KEPT"
	mw=() mc=() mm=() rw=() rc=() rm_=()
	for r in $(seq 1 "$REPS"); do
		read -r w c m < <(measure merge "$BIN/kvbuild" -q --force --memory "$MEM" --threads "$THREADS" --base "$BASE" --delete "$DELS" -o "$DATA/new.kvd" "$DELTA")
		printf "%-7s %-4s %-8s %8.2f %8.2f %10.0f\n" "$F" "$r" merge "$w" "$c" "$(echo "$m / 1024" | bc -l)"
		mw+=("$w") mc+=("$c") mm+=("$m")
		read -r w c m < <(measure rebuild "$BIN/kvbuild" -q --force --memory "$MEM" --threads "$THREADS" -o "$DATA/full.kvd" "$KEPT" "$DELTA")
		printf "%-7s %-4s %-8s %8.2f %8.2f %10.0f\n" "$F" "$r" rebuild "$w" "$c" "$(echo "$m / 1024" | bc -l)"
		rw+=("$w") rc+=("$c") rm_+=("$m")
	done
	a=$("$BIN/kvlookup" dump "$DATA/new.kvd" | md5sum | cut -c1-12)
	b=$("$BIN/kvlookup" dump "$DATA/full.kvd" | md5sum | cut -c1-12)
	[ "$a" = "$b" ] || { echo "DUMPS DIFFER for F=$F: merge $a, rebuild $b" >&2; exit 1; }
	echo "median F=$F (delta $D lines, $(wc -l <"$DELS") deletes; dumps equal, md5 $a): merge $(med "${mw[@]}") s wall, $(med "${mc[@]}") s cpu, $(($(med "${mm[@]}") / 1024)) MiB; rebuild $(med "${rw[@]}") s wall, $(med "${rc[@]}") s cpu, $(($(med "${rm_[@]}") / 1024)) MiB"
	rm -f "$DELTA" "$DELS" "$KEPT"
done
