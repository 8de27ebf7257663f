#!/usr/bin/env python3
"""Benchmark function-modelcache over gRPC (not part of the test suite).

Starts the release binary, drives it with ModelCache requests for 1, 10, 100
and 1,000 matched clusters in three states (nothing observed, all hydrating,
all ready: observed provider-kubernetes Objects with remote status), and prints
request/response sizes, sequential latency percentiles, throughput at 1, 4 and
16 concurrent client processes, server CPU per call, and RSS idle and peak, as
a table and as JSON (--json FILE).

    python3 bench/bench.py [--binary PATH] [--calls N] [--sizes 1,10,100,1000] [--large] [--json out.json]
"""

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))
from conftest import V1_METHOD  # noqa: E402

import grpc  # noqa: E402
from crossplane.function.proto.v1 import run_function_pb2 as pb  # noqa: E402

REPO = "Qwen/Qwen2.5-0.5B-Instruct"
SOURCE = f"hf://{REPO}"  # the identity of the default branch (lifecycle.md §1)


def child_name(*parts):
    joined = "-".join(parts)
    h = hashlib.sha256(joined.encode()).hexdigest()[:5]
    return joined[:57].rstrip("-") + "-" + h


CLAIM = child_name("modelcache", "ml-team", "qwen-2-5")
JOB = child_name("modelcache", "ml-team", "qwen-2-5", "hydrate", hashlib.sha256(SOURCE.encode()).hexdigest()[:6])


def managed_fields(key):
    """What the API server adds to every object it returns (server-side apply bookkeeping)."""
    return [{"apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "fieldsType": "FieldsV1", "manager": manager,
             "operation": "Apply" if i == 0 else "Update", "time": "2026-11-28T10:00:0%dZ" % i,
             "subresource": "status" if i else "",
             "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:crossplane.io/composition-resource-name": {}},
                                         "f:labels": {".": {}, "f:crossplane.io/composite": {}},
                                         "f:ownerReferences": {'k:{"uid":"%s"}' % hashlib.sha1(key.encode()).hexdigest(): {}}},
                          "f:spec": {"f:forProvider": {"f:manifest": {}}, "f:providerConfigRef": {"f:kind": {}, "f:name": {}},
                                     "f:readiness": {"f:celQuery": {}, "f:policy": {}}},
                          "f:status": {"f:atProvider": {"f:manifest": {}}, "f:conditions": {}}}}
            for i, manager in enumerate(["apiextensions.crossplane.io/composed", "provider-kubernetes"])]


def observed_object(key, manifest, remote_status, ready, managed=False):
    remote = dict(manifest, status=remote_status)
    remote["metadata"] = dict(manifest["metadata"], uid="6f1c2a34-0000-4000-8000-" + hashlib.sha1(key.encode()).hexdigest()[:12],
                              resourceVersion="123456", creationTimestamp="2026-11-28T10:00:00Z")
    extra = {"managedFields": managed_fields(key), "uid": hashlib.sha1(key.encode()).hexdigest(),
             "ownerReferences": [{"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache", "name": "qwen-2-5",
                                  "uid": "0b6c9a52-1111-4222-8333-444455556666", "controller": True,
                                  "blockOwnerDeletion": True}]} if managed else {}
    return {
        "apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "Object",
        "metadata": {**extra, "name": f"qwen-2-5-{hashlib.sha1(key.encode()).hexdigest()[:5]}", "namespace": "ml-team",
                     "annotations": {"crossplane.io/composition-resource-name": key},
                     "labels": {"crossplane.io/composite": "qwen-2-5"}},
        "spec": {"forProvider": {"manifest": manifest}, "providerConfigRef": {"kind": "ClusterProviderConfig", "name": "pc"},
                 "managementPolicies": ["*"]},
        "status": {"atProvider": {"manifest": remote},
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False", "reason": "Available" if ready else "Creating",
                                   "lastTransitionTime": "2026-11-28T10:00:00Z"},
                                  {"type": "Synced", "status": "True", "reason": "ReconcileSuccess",
                                   "lastTransitionTime": "2026-11-28T10:00:00Z"}]},
    }


def request(n, state):
    """state: nothing, hydrating, ready; or large: hydrating, with the API server's
    bookkeeping (managedFields, ownerReferences) on every observed object."""
    managed = state == "large"
    if managed:
        state = "hydrating"
    clusters = [f"gpu-{i:04d}" for i in range(n)]
    req = pb.RunFunctionRequest(meta=pb.RequestMeta(tag=f"{n}-{state}"))
    xr = {"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
          "metadata": {"name": "qwen-2-5", "namespace": "ml-team", "uid": "0b6c9a52-1111-4222-8333-444455556666"},
          "spec": {"artifact": {"source": {"huggingFace": {"repo": REPO}}}, "mount": {"path": "/models/qwen"}}}
    if state != "nothing":
        phase = "Hydrating" if state == "hydrating" else "Ready"
        xr["status"] = {"summary": {"ready": f"{n if phase == 'Ready' else 0}/{n}"},
                        "clusters": [{"name": c, "phase": phase, "source": SOURCE,
                                      **({"staged": SOURCE} if phase == "Ready" else {})} for c in clusters]}
    req.observed.composite.resource.update(xr)
    # The steady state: Crossplane has answered every requirement (no replica uses the cache).
    req.required_resources["consumers"].SetInParent()
    items = req.required_resources["clusters"].items
    for c in clusters:
        items.add().resource.update({
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster", "metadata": {"name": c, "labels": {"region": "us"}},
            "spec": {"cluster": {"source": "Existing"}, "storage": {"rwxCache": {"storageClassName": "fast-rwx", "defaultSizeGiB": 300}}},
            "status": {"providerConfigRef": {"name": f"pc-{c}"}, "conditions": [{"type": "Ready", "status": "True"}]}})
        if state == "nothing":
            continue
        pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": CLAIM, "namespace": "default"},
               "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "fast-rwx", "resources": {"requests": {"storage": "300Gi"}}}}
        req.observed.resources[f"pvc-{c}"].resource.update(observed_object(
            f"pvc-{c}", pvc, {"phase": "Bound", "accessModes": ["ReadWriteMany"], "capacity": {"storage": "300Gi"}}, True, managed))
        if state == "hydrating":
            job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": JOB, "namespace": "default"},
                   "spec": {"backoffLimit": 4, "template": {"spec": {"restartPolicy": "OnFailure", "containers": [
                       {"name": "hydrate", "image": "python:3.12-slim", "env": [{"name": "MODEL_REPO", "value": REPO}]}]}}}}
            req.observed.resources[f"hydrate-{c}"].resource.update(observed_object(
                f"hydrate-{c}", job, {"active": 1, "startTime": "2026-11-28T10:00:00Z"}, False, managed))
    return req.SerializeToString()


def proc_stats(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return cpu, rss, hwm


def call_loop(address, body, deadline_s, count, out):
    channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
    call = channel.unary_unary(V1_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    call(body, timeout=60)
    n = 0
    start = time.perf_counter()
    while n < count and time.perf_counter() - start < deadline_s:
        call(body, timeout=60)
        n += 1
    out.put((n, time.perf_counter() - start))


def throughput(address, body, clients, count, deadline_s):
    # spawn, not fork: gRPC's state does not survive a fork of a process that has a channel.
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=call_loop, args=(address, body, deadline_s, count, q)) for _ in range(clients)]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    total = sum(n for n, _ in results)
    elapsed = max(t for _, t in results)
    return total / elapsed if elapsed else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / ".build" / "release" / "function-modelcache"))
    ap.add_argument("--calls", type=int, default=200, help="sequential calls per case (fewer for large cases)")
    ap.add_argument("--sizes", default="1,10,100,1000")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--large", action="store_true",
                    help="add a case at 1,000 clusters whose 2,000 observed objects carry managedFields (about 7 MiB)")
    args = ap.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    server = subprocess.Popen([args.binary, "--insecure", "--address", address], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    _, idle_rss, _ = proc_stats(server.pid)
    channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
    call = channel.unary_unary(V1_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)

    rows = []
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            for state in ("nothing", "hydrating", "ready") + (("large",) if n >= 1000 and args.large else ()):
                body = request(n, state)
                response = call(body, timeout=60)
                # Every size up to 100 clusters gets the full count (a median of a few dozen
                # calls moves by half a millisecond on a shared machine); 1,000 gets a tenth.
                calls = args.calls if n <= 100 else max(20, args.calls // 10)
                cpu0, _, _ = proc_stats(server.pid)
                lat = []
                for _ in range(calls):
                    t = time.perf_counter()
                    call(body, timeout=60)
                    lat.append((time.perf_counter() - t) * 1000)
                cpu1, _, _ = proc_stats(server.pid)
                lat.sort()
                q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
                row = {"clusters": n, "state": state, "request_bytes": len(body), "response_bytes": len(response),
                       "p50_ms": round(statistics.median(lat), 3), "p90_ms": round(q(0.90), 3), "p99_ms": round(q(0.99), 3),
                       "server_cpu_ms_per_call": round((cpu1 - cpu0) * 1000 / calls, 3)}
                for clients in (1, 4, 16):
                    row[f"calls_per_s_{clients}"] = round(throughput(address, body, clients, max(5, calls // clients), 3.0), 1)
                rows.append(row)
                print(f"  measured {n} clusters / {state}", file=sys.stderr)
        _, rss, peak = proc_stats(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=15)

    summary = {"idle_rss_mib": round(idle_rss / 2**20, 1), "peak_rss_mib": round(peak / 2**20, 1),
               "final_rss_mib": round(rss / 2**20, 1), "cases": rows}
    hdr = f"{'clusters':>8} {'state':>9} {'req KiB':>9} {'resp KiB':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'cpu ms':>7} {'1c/s':>7} {'4c/s':>7} {'16c/s':>7}"
    print(hdr)
    for r in rows:
        print(f"{r['clusters']:>8} {r['state']:>9} {r['request_bytes']/1024:>9.1f} {r['response_bytes']/1024:>9.1f} {r['p50_ms']:>8.3f} "
              f"{r['p90_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['server_cpu_ms_per_call']:>7.3f} {r['calls_per_s_1']:>7.1f} "
              f"{r['calls_per_s_4']:>7.1f} {r['calls_per_s_16']:>7.1f}")
    print(f"RSS idle {summary['idle_rss_mib']} MiB, peak {summary['peak_rss_mib']} MiB, after {summary['final_rss_mib']} MiB")
    print(json.dumps(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
