#!/usr/bin/env python3
"""Soak: many calls from concurrent clients with mixed valid and invalid
requests against the release binary (not part of the test suite).

Every call must get the right answer (a response for valid requests,
INVALID_ARGUMENT for garbage, RESOURCE_EXHAUSTED for oversized ones); RSS
after the soak must stay within 20% of RSS after warm-up. With --sigterm, the
server is sent SIGTERM while calls are in flight: those calls must finish and
the process exit 0.

    python3 bench/soak.py [--calls 100000] [--clients 16] [--sigterm]
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
    invalid = [b"\xff\xff\xff", b"\x0a\x05hello", os.urandom(64)]
    oversized = b"\x0a" + b"\xff\xff\xff\x07" + b"x" * (MAX_MB * 2**20 + 1024)
    return valid, invalid, oversized


def client(address, calls, seed, out, stop_at_signal):
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
            else:
                stats["wrong"] += 1
        except grpc.RpcError as e:
            if expect is not None and e.code() == expect:
                stats["invalid_ok" if expect == grpc.StatusCode.INVALID_ARGUMENT else "exhausted_ok"] += 1
            elif stop_at_signal and e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                # After SIGTERM the server stops accepting: a call that had not reached a
                # handler yet is refused (UNAVAILABLE) or, if it raced the shutdown,
                # cancelled before any work. Calls inside a handler always complete.
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


def run_clients(address, clients, calls_each, stop_at_signal=False, on_start=None):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=client, args=(address, calls_each, i, q, stop_at_signal)) for i in range(clients)]
    for p in procs:
        p.start()
    if on_start:
        on_start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    total = {k: sum(r[k] for r in results) for k in ("ok", "invalid_ok", "exhausted_ok", "wrong", "unavailable_after_signal")}
    total["errors"] = [e for r in results for e in r["errors"]][:5]
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / ".build" / "release" / "function-modelcache"))
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--sigterm", action="store_true", help="also SIGTERM a server under load")
    args = ap.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    server = subprocess.Popen([args.binary, "--insecure", "--address", address, "--max-recv-message-size", str(MAX_MB)],
                              stderr=subprocess.DEVNULL)
    time.sleep(1)
    # Warm up to steady state: every gRPC thread has its malloc arena and caches.
    warm = run_clients(address, args.clients, max(1000, args.calls // (10 * args.clients)))
    rss_warm = rss(server.pid)
    t0 = time.time()
    soak = run_clients(address, args.clients, args.calls // args.clients)
    elapsed = time.time() - t0
    rss_after = rss(server.pid)
    alive = server.poll() is None
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=30)
    calls = sum(soak[k] for k in ("ok", "invalid_ok", "exhausted_ok", "wrong"))
    report = {"calls": calls, "clients": args.clients, "seconds": round(elapsed, 1), "calls_per_s": round(calls / elapsed, 1),
              **soak, "warmup_wrong": warm["wrong"], "rss_after_warmup_mib": round(rss_warm, 1),
              "rss_after_soak_mib": round(rss_after, 1), "rss_growth_pct": round(100 * (rss_after - rss_warm) / rss_warm, 1),
              "alive_after_soak": alive, "exit_code": code}
    ok = soak["wrong"] == 0 and warm["wrong"] == 0 and alive and code == 0 and rss_after <= rss_warm * 1.2

    if args.sigterm:
        server = subprocess.Popen([args.binary, "--insecure", "--address", address, "--max-recv-message-size", str(MAX_MB)],
                                  stderr=subprocess.DEVNULL)
        time.sleep(1)
        t = {}

        def signal_later():
            # Long enough for every spawned client to be calling.
            time.sleep(8)
            t["sent"] = time.time()
            server.send_signal(signal.SIGTERM)

        import threading
        threading.Thread(target=signal_later).start()
        load = run_clients(address, args.clients, 10**9 // args.clients, stop_at_signal=True)
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
