#!/usr/bin/env python3
"""Latency of `detect follow`: from a conn.log line appearing (written and flushed) to its
scored row written on follow's standard output.

Usage: follow_latency.py DETECT MODEL SOURCE_CONN_LOG [LINES] [POLL_MS] [INTERVAL_MS]

Starts `detect follow --format csv` on an empty conn.log in a temporary directory, writes
SOURCE's header, then appends LINES rows one at a time every INTERVAL_MS (each flushed),
noting the time each write returned; a reader thread notes when each row's CSV line (matched
by uid) arrives. Prints one JSON line: median, p99 and max latency in milliseconds. CSV
output makes every line (not only flagged ones) measurable; an alert is written by the same
flush. Used by scripts/bench.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time


def main():
    detect, model, source = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 400
    poll_ms = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    interval = (int(sys.argv[6]) if len(sys.argv) > 6 else 10) / 1000
    lines = open(source).read().splitlines()
    header = [l for l in lines if l.startswith("#") and not l.startswith("#close")]
    rows = [l for l in lines if l and not l.startswith("#")][:n]
    uid_col = header[[h.startswith("#fields") for h in header].index(True)].split("\t")[1:].index("uid")
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "conn.log")
        open(log, "w").close()
        proc = subprocess.Popen(
            [detect, "follow", "--model", model, log, "--format", "csv",
             "--poll-ms", str(poll_ms), "--exit-when-idle-ms", "3000"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        arrived = {}

        def read():
            for raw in proc.stdout:
                cells = raw.decode().split(",")
                if len(cells) > 1:
                    arrived[cells[1]] = time.monotonic()

        reader = threading.Thread(target=read)
        reader.start()
        written = {}
        with open(log, "a") as f:
            f.write("\n".join(header) + "\n")
            f.flush()
            time.sleep(1.0)  # follow has loaded the model and opened the file
            for r in rows:
                f.write(r + "\n")
                f.flush()
                written[r.split("\t")[uid_col]] = time.monotonic()
                time.sleep(interval)
        proc.wait()
        reader.join()
    lat = sorted((arrived[u] - t) * 1000 for u, t in written.items() if u in arrived)
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1)
    print(json.dumps({"name": f"follow_latency_poll_{poll_ms}ms", "lines": len(written),
                      "scored": len(lat), "median_ms": pick(0.5), "p99_ms": pick(0.99),
                      "max_ms": round(lat[-1], 1), "poll_ms": poll_ms,
                      "interval_ms": interval * 1000}))


if __name__ == "__main__":
    main()
