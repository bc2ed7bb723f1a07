#!/usr/bin/env bash
# Run every fuzz target for SECS seconds each (default 240), one after the other, on the stable
# toolchain with RUSTC_BOOTSTRAP=1 (cargo fuzz needs nightly-only compiler flags). Logs go to
# fuzz/logs/<target>.log; a crash stops that target and leaves its input in fuzz/artifacts/.
# Usage: fuzz/run_all.sh [SECS] [TARGET...]   (run fuzz/seed.sh first for seed corpora)
set -uo pipefail
cd "$(dirname "$0")"
SECS=${1:-240}; shift || true
TARGETS=${*:-mtz pdb mmcif seq asu dict}
mkdir -p logs
for t in $TARGETS; do
  mkdir -p corpus/$t
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" corpus/$t -- -max_total_time="$SECS" -max_len=16384 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >logs/$t.log 2>&1
  echo "$t: exit $? — $(grep -E '^Done [0-9]+ runs' logs/$t.log || tail -1 logs/$t.log)"
done
