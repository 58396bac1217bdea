#!/usr/bin/env bash
# Runs every fuzz target in turn (one at a time: the fuzzers are single-threaded and the
# machine is shared), each until 10 million executions or SECONDS_PER_TARGET, whichever comes
# first, and prints one summary line per target. Seeds the corpus first.
#
# Usage: fuzz/run_all.sh [seconds-per-target] [target...]    (default 600 s, all targets)
# Logs: fuzz/artifacts/logs/<target>.log; crashes: fuzz/artifacts/<target>/.
set -uo pipefail

cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-600}"
shift || true
ALL=(import_pcap import_pcapng import_zeek_tsv import_zeek_json import_cic import_kdd
    import_unsw import_generic_csv import_auto model_json run_config_query worker_request
    import_suricata_eve import_argus import_nfdump)
TARGETS=("${@:-${ALL[@]}}")

# Inputs longer than this rarely add coverage and slow every execution down.
max_len() {
    case "$1" in
    import_pcap | import_pcapng | import_auto) echo 65536 ;;
    run_config_query) echo 4096 ;;
    *) echo 16384 ;;
    esac
}

./seed_corpus.sh >/dev/null
mkdir -p artifacts/logs
for t in "${TARGETS[@]}"; do
    log="artifacts/logs/$t.log"
    nice -n 19 cargo +nightly fuzz run --sanitizer "${SANITIZER:-none}" "$t" -- -runs=10000000 -rss_limit_mb=2048 -timeout=10 \
        -max_len="$(max_len "$t")" -max_total_time="$SECONDS_PER_TARGET" \
        $( [ -f "dicts/$t.dict" ] && echo "-dict=dicts/$t.dict" ) >"$log" 2>&1
    rc=$?
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)"
    secs="$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)"
    findings="$(ls "artifacts/$t" 2>/dev/null | grep -cE '^(crash|timeout|oom|leak)-')"
    echo "$t rc=$rc findings=$findings | $secs | $done_line"
done
