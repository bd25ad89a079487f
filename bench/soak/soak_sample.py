#!/usr/bin/python3
"""Runs `onnxpool run ... --output DIR` and samples it once a second: resident memory, open file
descriptors, threads, and the items done (from DIR/.onnxpool-journal, whose `done A-B` records are
committed once a second).

    soak_sample.py OUT.json DIR -- COMMAND ARGS...

Writes {"command", "status", "seconds", "peak_mib", "samples": [[seconds, rss_mib, fds, threads,
items_done], ...]} to OUT.json (complete or not at all) and prints a table: the run cut into ten equal
spans of items, each with its items/s, RSS, descriptors and threads at its end, then the first span's
rate against the last's and the descriptor and thread counts at the start and the end.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time

DONE = re.compile(rb"^done (\d+)-(\d+)$", re.MULTILINE)


def status_field(pid: int, name: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def fd_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class Journal:
    """Follows the journal as it grows: only the bytes added since the last look are read."""

    def __init__(self, path: str):
        self.path, self.offset, self.done, self.tail = path, 0, 0, b""

    def items_done(self) -> int:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return self.done
        self.offset += len(chunk)
        text = self.tail + chunk
        cut = text.rfind(b"\n") + 1
        self.tail = text[cut:]
        for m in DONE.finditer(text[:cut]):
            self.done = max(self.done, int(m.group(2)) + 1)
        return self.done


def main() -> int:
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, folder, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    journal = Journal(os.path.join(folder, ".onnxpool-journal"))
    start = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    samples = []
    while child.poll() is None:
        pid = child.pid
        rss, threads, fds = status_field(pid, "VmRSS"), status_field(pid, "Threads"), fd_count(pid)
        if rss is not None and threads is not None and fds is not None:
            samples.append([round(time.monotonic() - start, 2), round(rss / 1024, 1), fds, threads,
                            journal.items_done()])
        time.sleep(1.0)
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {"command": command, "status": child.returncode, "seconds": round(seconds, 2),
              "peak_mib": round(peak, 1), "samples": samples}
    tmp = f"{out}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, out)

    # Ten spans of equal item counts, from the first sample with items done (sessions made) to the
    # last sample's count; each row at the first sample reaching its span's end.
    working = [s for s in samples if s[4] > 0]
    if len(working) < 3:
        print(f"too few samples ({len(samples)}) for a table; status {child.returncode}")
        return child.returncode
    first, last = working[0], working[-1]
    print(f"{'items':>10} {'seconds':>8} {'items/s':>9} {'rss MiB':>8} {'fds':>4} {'threads':>7}")
    print(f"{first[4]:>10} {first[0]:>8.1f} {'':>9} {first[1]:>8.1f} {first[2]:>4} {first[3]:>7}")
    rates = []
    previous = first
    for k in range(1, 11):
        target = first[4] + (last[4] - first[4]) * k // 10
        row = next(s for s in working if s[4] >= target)
        if row[0] > previous[0]:
            rates.append((row[4] - previous[4]) / (row[0] - previous[0]))
            print(f"{row[4]:>10} {row[0]:>8.1f} {rates[-1]:>9.0f} {row[1]:>8.1f} {row[2]:>4} {row[3]:>7}")
        previous = row
    rss = [s[1] for s in working]
    print(f"rss over the run: min {min(rss):.1f}, max {max(rss):.1f} MiB (peak {peak:.1f}); "
          f"fds {first[2]} -> {last[2]}, threads {first[3]} -> {last[3]}; "
          f"items/s first span {rates[0]:.0f}, last span {rates[-1]:.0f} "
          f"(last/first {rates[-1] / rates[0]:.3f}); {seconds:.1f} s, status {child.returncode}")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
