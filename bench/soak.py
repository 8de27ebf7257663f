#!/usr/bin/env python3
"""Soak: rounds of calls from concurrent clients with mixed valid and invalid
requests against the release binary (not part of the test suite).

Every call must get the right answer (a response for valid requests,
INVALID_ARGUMENT for garbage, RESOURCE_EXHAUSTED for oversized ones). Memory is
judged by its trend, not by one sample: after a warm-up round and after each of
--rounds load rounds the soak waits --idle seconds (longer than the server's
10 s malloc_trim period, so what glibc merely kept for reuse has been returned)
and then samples RSS. A leak grows that post-trim RSS round over round; glibc
keeping freed pages during load does not, so the verdict holds on any machine.
It FAILs when RSS rises through the last three rounds, or when the later rounds
sit well above the earlier ones, beyond the noise oversized requests cause (see
memory_verdict). RSS peaks during load are printed for information only. With --sigterm, the server
is sent SIGTERM while calls are in flight: every call must be answered or
refused with UNAVAILABLE (never CANCELLED), and the process must exit 0.

    python3 bench/soak.py [--calls 100000] [--clients 16] [--rounds 5] [--idle 12] [--sigterm]
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))

import grpc  # noqa: E402

V1 = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
V1BETA1 = "/apiextensions.fn.proto.v1beta1.FunctionRunnerService/RunFunction"
MAX_MB = 8
OVERSIZED_SHARE = float(os.environ.get("SOAK_OVERSIZED_SHARE", "0.002"))


def bodies():
    import bench
    from conftest import model_cache_request
    from crossplane.function.proto.v1 import run_function_pb2 as pb
    valid = [bench.request(1, "nothing"), bench.request(3, "hydrating"), bench.request(10, "ready"),
             model_cache_request(["a", "b"]).SerializeToString()]
    foreign = pb.RunFunctionRequest(meta=pb.RequestMeta(tag="x"))
    foreign.observed.composite.resource.update({"apiVersion": "v1", "kind": "Other"})
    valid.append(foreign.SerializeToString())
    # Deterministic garbage: random bytes are valid protobuf now and then (about 1
    # in 1,000 64-byte strings), which made the verdict depend on luck.
    invalid = [b"\xff\xff\xff", b"\x0a\x05hello", valid[3][:-1]]
    from google.protobuf.message import DecodeError
    for body in invalid:
        try:
            pb.RunFunctionRequest.FromString(body)
        except DecodeError:
            continue
        raise AssertionError(f"soak: the invalid body {body[:16]!r}... is valid protobuf")
    oversized = b"\x0a" + b"\xff\xff\xff\x07" + b"x" * (MAX_MB * 2**20 + 1024)
    return valid, invalid, oversized


def client(address, calls, seed, out, stop_at_signal, started=None):
    valid, invalid, oversized = bodies()
    rng = random.Random(seed)
    channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", -1)])
    methods = [channel.unary_unary(m, request_serializer=lambda b: b, response_deserializer=lambda b: b) for m in (V1, V1BETA1)]
    stats = {"ok": 0, "invalid_ok": 0, "exhausted_ok": 0, "wrong": 0, "unavailable_after_signal": 0, "errors": []}
    for i in range(calls):
        r = rng.random()
        body, expect = (oversized, grpc.StatusCode.RESOURCE_EXHAUSTED) if r < OVERSIZED_SHARE else \
            (rng.choice(invalid), grpc.StatusCode.INVALID_ARGUMENT) if r < 0.15 else (rng.choice(valid), None)
        try:
            methods[i % 2](body, timeout=30)
            if expect is None:
                stats["ok"] += 1
                if started is not None and stats["ok"] == 1:
                    with started.get_lock():
                        started.value += 1
            else:
                stats["wrong"] += 1
        except grpc.RpcError as e:
            if expect is not None and e.code() == expect:
                stats["invalid_ok" if expect == grpc.StatusCode.INVALID_ARGUMENT else "exhausted_ok"] += 1
            elif stop_at_signal and e.code() == grpc.StatusCode.UNAVAILABLE:
                # After SIGTERM the server refuses new calls with UNAVAILABLE; every
                # call it had received is answered.
                stats["unavailable_after_signal"] += 1
                break
            else:
                stats["wrong"] += 1
                if len(stats["errors"]) < 5:
                    stats["errors"].append(f"{e.code()}: {e.details()}")
    out.put(stats)


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_clients(address, clients, calls_each, stop_at_signal=False, on_all_calling=None):
    """Runs `clients` processes; `on_all_calling` (in a thread) once each has had a call answered."""
    import threading
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    started = ctx.Value("i", 0)
    procs = [ctx.Process(target=client, args=(address, calls_each, i, q, stop_at_signal, started)) for i in range(clients)]
    for p in procs:
        p.start()
    if on_all_calling:
        def wait_then_call():
            deadline = time.time() + 300
            while started.value < clients and time.time() < deadline:
                time.sleep(0.05)
            on_all_calling()
        threading.Thread(target=wait_then_call, daemon=True).start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    total = {k: sum(r[k] for r in results) for k in ("ok", "invalid_ok", "exhausted_ok", "wrong", "unavailable_after_signal")}
    total["errors"] = [e for r in results for e in r["errors"]][:5]
    return total


class PeakSampler:
    """Samples RSS every 50 ms in the background; keeps the peak."""

    def __init__(self, pid):
        import threading
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def memory_verdict(baseline, rounds, allowance=0.0):
    """(ok, reason) from post-trim RSS: baseline after warm-up, then one value per round.

    A leak keeps growing with the calls: RSS rises through the last three rounds
    (each step > 1 MiB, together more than `allowance` + 3 MiB), or the later
    rounds sit well above the earlier ones (mean of the last half > mean of the
    first half + 10 % + 2 MiB + `allowance`). `allowance` is the noise the load
    itself causes: an oversized request is buffered whole before it is refused,
    and one or two such buffers can stay resident after malloc_trim (measured
    here: post-trim RSS 37.3 → 37.8 MiB over 20,000 calls without oversized
    requests, steps of ±8 MiB with them). A step that then stays flat is the
    allocator settling, not a leak.
    """
    series = [baseline, *rounds]
    steps = [b - a for a, b in zip(series, series[1:])][-3:]
    if all(step > 1.0 for step in steps) and sum(steps) > allowance + 3.0:
        return False, f"post-trim RSS rose through the last three rounds ({', '.join(f'+{s:.1f}' for s in steps)} MiB)"
    half = len(rounds) // 2
    first, last = sum(rounds[:half]) / half, sum(rounds[-half:]) / half
    if last > first * 1.10 + 2.0 + allowance:
        return False, (f"post-trim RSS of the later rounds ({last:.1f} MiB) is well above the earlier ones "
                       f"({first:.1f} MiB; noise allowance {allowance:.0f} MiB)")
    return True, f"no growth trend in post-trim RSS (noise allowance {allowance:.0f} MiB)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / ".build" / "release" / "function-modelcache"))
    ap.add_argument("--calls", type=int, default=100_000, help="calls over all rounds (warm-up not counted)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--idle", type=float, default=12.0, help="seconds idle before each RSS sample (> 10 s trim period)")
    ap.add_argument("--sigterm", action="store_true", help="also SIGTERM a server under load")
    args = ap.parse_args()
    if args.rounds < 4:
        ap.error("--rounds must be at least 4 to see a trend")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    server = subprocess.Popen([args.binary, "--insecure", "--address", address, "--max-recv-message-size", str(MAX_MB)],
                              stderr=subprocess.DEVNULL)
    time.sleep(1)
    per_round = max(args.clients, args.calls // args.rounds)
    # Warm up to steady state: every worker thread has its malloc arena and caches.
    warm = run_clients(address, args.clients, per_round // args.clients)
    time.sleep(args.idle)
    baseline = rss(server.pid)
    totals = {k: 0 for k in ("ok", "invalid_ok", "exhausted_ok", "wrong")}
    errors, rounds, peaks, seconds = [], [], [], 0.0
    for _ in range(args.rounds):
        sampler = PeakSampler(server.pid)
        t0 = time.time()
        r = run_clients(address, args.clients, per_round // args.clients)
        seconds += time.time() - t0
        peaks.append(round(sampler.stop(), 1))
        for k in totals:
            totals[k] += r[k]
        errors += r["errors"]
        time.sleep(args.idle)
        rounds.append(round(rss(server.pid), 1))
    alive = server.poll() is None
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=30)
    calls = sum(totals.values())
    allowance = 2.0 * (MAX_MB + 1) if OVERSIZED_SHARE > 0 else 0.0
    memory_ok, memory_reason = memory_verdict(baseline, rounds, allowance)
    report = {"calls": calls, "clients": args.clients, "rounds": args.rounds, "seconds_under_load": round(seconds, 1),
              "calls_per_s": round(calls / seconds, 1), **totals, "errors": errors[:5], "warmup_wrong": warm["wrong"],
              "rss_baseline_after_trim_mib": round(baseline, 1), "rss_after_trim_per_round_mib": rounds,
              "rss_peak_during_round_mib": peaks, "memory": memory_reason,
              "alive_after_soak": alive, "exit_code": code}
    ok = totals["wrong"] == 0 and warm["wrong"] == 0 and alive and code == 0 and memory_ok

    if args.sigterm:
        server = subprocess.Popen([args.binary, "--insecure", "--address", address, "--max-recv-message-size", str(MAX_MB)],
                                  stderr=subprocess.DEVNULL)
        time.sleep(1)

        def signal_soon():
            time.sleep(1)  # every client is calling back to back by now
            server.send_signal(signal.SIGTERM)

        load = run_clients(address, args.clients, 10**9 // args.clients, stop_at_signal=True, on_all_calling=signal_soon)
        code2 = server.wait(timeout=30)
        report["sigterm"] = {"calls_answered": load["ok"] + load["invalid_ok"] + load["exhausted_ok"], "wrong": load["wrong"],
                             "refused_after_signal": load["unavailable_after_signal"], "exit_code": code2,
                             "errors": load["errors"]}
        ok = ok and load["wrong"] == 0 and code2 == 0 and report["sigterm"]["calls_answered"] > 0
    print(json.dumps(report, indent=2))
    print("soak: PASS" if ok else "soak: FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
