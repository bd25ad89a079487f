#!/usr/bin/python3
"""Runs a command and samples its resident memory through the run.

    rss_sample.py OUT.json -- COMMAND ARGS...

Writes {"command", "seconds", "peak_mib" (the kernel's high-water mark, ru_maxrss), "samples":
[[seconds, rss_mib], ...] every 0.25 s} to OUT.json and prints one line: peak, and the RSS at 10%, 50%
and 90% of the run (flat memory: the three agree). Exits with the command's status.
"""
import json
import os
import resource
import subprocess
import sys
import time


def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, command = sys.argv[1], sys.argv[3:]
    start = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    samples = []
    while child.poll() is None:
        rss = rss_mib(child.pid)
        if rss is not None:
            samples.append([round(time.monotonic() - start, 3), round(rss, 1)])
        time.sleep(0.25)
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {"command": command, "status": child.returncode, "seconds": round(seconds, 3),
              "peak_mib": round(peak, 1), "samples": samples}
    tmp = f"{out}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, out)

    def at(fraction: float) -> float:
        if not samples:
            return float("nan")
        t = fraction * seconds
        return min(samples, key=lambda s: abs(s[0] - t))[1]

    print(f"peak {peak:.1f} MiB in {seconds:.1f} s; rss at 10% {at(0.1):.1f}, 50% {at(0.5):.1f}, "
          f"90% {at(0.9):.1f} MiB ({len(samples)} samples)")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
