#!/usr/bin/env python3
"""Runs a command and measures it for bench/hydrator.sh, like /usr/bin/time plus the scheduler's view.

Writes one line to OUT: `wall user sys maxrss_kib oncpu rqwait exit`:
wall seconds; user and sys CPU seconds and the peak RSS in KiB from getrusage
(wait4: the command and every descendant it waited for); and, sampled from
/proc/<pid>/task/*/schedstat every 20 ms, the seconds its threads ran on a CPU
and the seconds they were runnable but waited for one (on a shared machine,
the time other work took from it). Usage: measure.py OUT COMMAND [ARG...]
"""

import os
import subprocess
import sys
import threading
import time


def sample(pid: int, last: list, done: threading.Event) -> None:
    """Keeps `last` = [on-CPU ns, run-queue ns] summed over the process's threads."""
    while not done.is_set():
        total = [0, 0]
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    run, wait, _ = f.read().split()
                total[0] += int(run)
                total[1] += int(wait)
            last[:] = total
        except (OSError, ValueError):
            pass
        done.wait(0.02)


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    start = time.monotonic()
    child = subprocess.Popen(cmd)
    last, done = [0, 0], threading.Event()
    watcher = threading.Thread(target=sample, args=(child.pid, last, done), daemon=True)
    watcher.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    done.set()
    watcher.join()
    code = os.waitstatus_to_exitcode(status)
    child.returncode = code
    with open(out, "w") as f:
        f.write(f"{wall:.3f} {usage.ru_utime:.2f} {usage.ru_stime:.2f} {usage.ru_maxrss} "
                f"{last[0] / 1e9:.2f} {last[1] / 1e9:.2f} {code}\n")
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
