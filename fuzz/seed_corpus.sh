#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ for `cargo fuzz run`: the committed seeds (fuzz/seeds/), the
# committed regression inputs (tests/fuzz_regressions/), and, when present, a small sample of
# the shared real-data folder (tcpdump's malformed captures, Zeek's pcaps and conn.logs,
# NSL-KDD, UNSW-NB15). Files from the shared folder are copied into the git-ignored corpus at
# run time only; they are never committed. Without the shared folder it still seeds from the
# committed files and says what it skipped.
#
# Usage: fuzz/seed_corpus.sh [shared-data-dir]   (default /work/shared/data, or $SHARED_DATA)
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "$0")" && pwd)"
REPO_DIR="$(dirname "$FUZZ_DIR")"
SHARED="${1:-${SHARED_DATA:-/work/shared/data}}"
CORPUS="$FUZZ_DIR/corpus"
# Seeds larger than this mostly slow the fuzzer down without adding coverage.
MAX_SEED_BYTES=65536

TARGETS=(import_pcap import_pcapng import_zeek_tsv import_zeek_json import_cic import_kdd
    import_unsw import_generic_csv import_auto model_json run_config_query worker_request
    import_suricata_eve import_argus import_nfdump)

for t in "${TARGETS[@]}"; do
    mkdir -p "$CORPUS/$t"
    for src in "$FUZZ_DIR/seeds/$t" "$REPO_DIR/tests/fuzz_regressions/$t"; do
        if [ -d "$src" ]; then
            find "$src" -maxdepth 1 -type f -exec cp -f {} "$CORPUS/$t/" \;
        fi
    done
done
# Every text seed is also a seed for detection.
for t in import_zeek_tsv import_zeek_json import_cic import_kdd import_unsw import_suricata_eve \
    import_argus import_nfdump; do
    cp -f "$CORPUS/$t"/* "$CORPUS/import_auto/" 2>/dev/null || true
done

if [ ! -d "$SHARED" ]; then
    echo "seed_corpus: $SHARED not found; seeded from committed files only"
    exit 0
fi

# copy_sample TARGET STEP: copies every STEP-th file named on stdin (sorted, so the sample is
# the same on every machine), renamed after its path so names cannot collide.
copy_sample() {
    local target="$1" step="$2" i=0 f
    while IFS= read -r f; do
        if [ $((i % step)) -eq 0 ]; then
            cp -f "$f" "$CORPUS/$target/$(echo "${f#"$SHARED"/}" | tr '/ ' '__')"
        fi
        i=$((i + 1))
    done
}
small_files() { # DIR NAME-PATTERN
    find "$SHARED/$1" -type f -name "$2" -size -"$MAX_SEED_BYTES"c 2>/dev/null | LC_ALL=C sort
}

small_files tcpdump_tests '*.pcap' | copy_sample import_pcap 8
small_files zeek_traces '*.pcap' | copy_sample import_pcap 4
small_files esnet_curated_pcaps '*.pcap' | copy_sample import_pcap 20
small_files tcpdump_tests '*.pcapng' | copy_sample import_pcapng 1
small_files zeek_traces '*.pcapng' | copy_sample import_pcapng 1
small_files zeek_traces 'conn.log' | copy_sample import_zeek_tsv 2

small_files tcpdump_tests '*.pcap' | copy_sample import_auto 40
small_files tcpdump_tests '*.pcapng' | copy_sample import_auto 8
small_files zeek_traces 'conn.log' | copy_sample import_auto 10
# Zeek's baselines mask timestamps as XXXXXXXXXX.XXXXXX; real-looking ones reach more code.
find "$CORPUS/import_zeek_tsv" "$CORPUS/import_auto" -type f -name '*conn.log' \
    -exec sed -i 's/XXXXXXXXXX\.XXXXXX/1300475167.096535/g' {} +

# Zeek JSON lines made from TSV conn.logs (numbers stay numbers, '-' becomes absent).
i=0
while IFS= read -r f; do
    [ $((i % 8)) -eq 0 ] || { i=$((i + 1)); continue; }
    awk -F'\t' '
        /^#fields/ { for (c = 2; c <= NF; c++) name[c - 1] = $c; n = NF - 1; next }
        /^#/ { next }
        n > 0 {
            line = "{"; sep = ""
            gsub(/XXXXXXXXXX\.XXXXXX/, "1300475167.096535")
            for (c = 1; c <= NF && c <= n; c++) {
                if ($c == "-" || $c == "(empty)") continue
                v = ($c ~ /^-?[0-9]+(\.[0-9]+)?$/) ? $c : "\"" $c "\""
                line = line sep "\"" name[c] "\":" v; sep = ","
            }
            print line "}"
        }' "$f" >"$CORPUS/import_zeek_json/$(echo "${f#"$SHARED"/}" | tr '/ ' '__').json"
    i=$((i + 1))
done < <(small_files zeek_traces 'conn.log')

# Tabular data: the first rows of each file (the fuzzer needs structure, not volume).
if [ -d "$SHARED/nsl_kdd" ]; then
    for f in "$SHARED"/nsl_kdd/KDD*.txt; do
        name="$(basename "$f" .txt | tr '+ ' '__')"
        head -n 40 "$f" >"$CORPUS/import_kdd/$name.txt"
        sed -n '1000,1010p' "$f" >"$CORPUS/import_kdd/${name}_mid.txt"
        head -n 10 "$f" >"$CORPUS/import_auto/$name.txt"
    done
fi
unsw="$SHARED/unsw_nb15_sample/UNSW_NB15_training-set-IPY.csv"
if [ -f "$unsw" ]; then
    head -n 30 "$unsw" >"$CORPUS/import_unsw/unsw_head.csv"
    # Without its header: the raw-row path.
    sed -n '2,30p' "$unsw" >"$CORPUS/import_unsw/unsw_rows.csv"
    head -n 10 "$unsw" >"$CORPUS/import_auto/unsw_head.csv"
    { printf '\0'; head -n 30 "$unsw"; } >"$CORPUS/import_generic_csv/unsw_head.csv"
fi

for t in "${TARGETS[@]}"; do
    printf '%-22s %5d files\n' "$t" "$(find "$CORPUS/$t" -type f | wc -l)"
done
