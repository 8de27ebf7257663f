"""End-to-end: the built binary, called by an independent gRPC client
(grpcio with crossplane-function-sdk-python's generated stubs)."""

import concurrent.futures
import json
import signal
import subprocess
import threading
import time

import grpc
import pytest
from crossplane.function.proto.v1 import run_function_pb2 as pb
from crossplane.function.proto.v1beta1 import run_function_pb2 as pb_beta
from crossplane.function.proto.v1beta1 import run_function_pb2_grpc as pb_beta_grpc
from google.protobuf import json_format

from conftest import BINARY, V1_METHOD, free_port, model_cache_request, raw_call, stub_for


def foreign_request(tag="abc"):
    req = pb.RunFunctionRequest(meta=pb.RequestMeta(tag=tag))
    req.observed.composite.resource.update({"apiVersion": "example.org/v1", "kind": "Database", "metadata": {"name": "db"}})
    req.desired.resources["bucket"].resource.update({"apiVersion": "s3/v1", "kind": "Bucket", "spec": {"size": 3, "tags": [1, "a", None]}})
    req.desired.resources["bucket"].ready = pb.READY_TRUE
    req.context.update({"apiextensions.crossplane.io/environment": {"region": "eu", "n": 2}})
    return req


def test_tag_desired_and_context_pass_through_and_foreign_kind_is_fatal(server):
    _, stub = stub_for(server.address)
    req = foreign_request()
    rsp = stub.RunFunction(req, timeout=10)
    assert rsp.meta.tag == "abc"
    assert rsp.meta.ttl.seconds > 0
    assert rsp.desired.resources["bucket"] == req.desired.resources["bucket"]
    assert rsp.context == req.context
    assert [r.severity for r in rsp.results] == [pb.SEVERITY_FATAL]
    assert "example.org/v1 Database" in rsp.results[0].message
    assert "modelplane.ai/v1alpha1 ModelCache" in rsp.results[0].message


def test_v1beta1_answers_the_same(server):
    channel, stub = stub_for(server.address)
    req = foreign_request()
    beta = pb_beta.RunFunctionRequest.FromString(req.SerializeToString())
    rsp_beta = pb_beta_grpc.FunctionRunnerServiceStub(channel).RunFunction(beta, timeout=10)
    rsp = stub.RunFunction(req, timeout=10)
    assert rsp_beta.SerializeToString(deterministic=True) == rsp.SerializeToString(deterministic=True)


def test_model_cache_call_composes_claim_and_job(server):
    _, stub = stub_for(server.address)
    rsp = stub.RunFunction(model_cache_request(["gpu-east", "gpu-west"]), timeout=10)
    assert not [r for r in rsp.results if r.severity == pb.SEVERITY_FATAL]
    # The claims and each Job's ServiceAccount; the Jobs wait for them (hydrator.md §4).
    assert sorted(rsp.desired.resources) == ["hydrate-sa-gpu-east", "hydrate-sa-gpu-west", "pvc-gpu-east", "pvc-gpu-west"]
    pvc = json_format.MessageToDict(rsp.desired.resources["pvc-gpu-east"].resource)
    manifest = pvc["spec"]["forProvider"]["manifest"]
    assert manifest["spec"]["storageClassName"] == "fast-rwx"
    assert manifest["spec"]["resources"]["requests"]["storage"] == "300Gi"
    assert manifest["metadata"]["name"] == "modelcache-ml-team-qwen-2-5-b6b9a"
    status = json_format.MessageToDict(rsp.desired.composite.resource)["status"]
    assert status["summary"] == {"ready": "0/2", "consumers": 0}
    assert {c.type: c.reason for c in rsp.conditions} == {"ClustersMatched": "Matched", "ArtifactReady": "Hydrating"}
    assert rsp.requirements.resources["clusters"].kind == "InferenceCluster"


def test_garbage_body_is_invalid_argument(server):
    channel, _ = stub_for(server.address)
    with pytest.raises(grpc.RpcError) as err:
        raw_call(channel)(b"\xff\xff\xff\xff", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a RunFunctionRequest" in err.value.details()


def test_oversized_request_is_resource_exhausted_and_server_keeps_serving(start_server):
    server = start_server("--insecure", "--max-recv-message-size", "1")
    _, stub = stub_for(server.address)
    big = foreign_request()
    big.desired.resources["blob"].resource.update({"data": "x" * (2 << 20)})
    with pytest.raises(grpc.RpcError) as err:
        stub.RunFunction(big, timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert stub.RunFunction(foreign_request(), timeout=10).meta.tag == "abc"
    assert server.proc.poll() is None


def test_concurrent_clients(server):
    def client(i):
        _, stub = stub_for(server.address)
        ok = 0
        for j in range(200):
            req = model_cache_request(tag=f"{i}-{j}") if j % 2 else foreign_request(tag=f"{i}-{j}")
            rsp = stub.RunFunction(req, timeout=20)
            ok += rsp.meta.tag == f"{i}-{j}"
        return ok

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(client, range(8)))
    assert results == [200] * 8


def test_same_request_gives_byte_identical_responses(server):
    channel, _ = stub_for(server.address)
    body = model_cache_request(["c-%02d" % i for i in range(20)]).SerializeToString()
    call = raw_call(channel)
    first = call(body, timeout=10)
    assert all(call(body, timeout=10) == first for _ in range(99))


def test_health_service_reports_serving(server):
    channel, _ = stub_for(server.address)
    check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    # HealthCheckResponse{status: SERVING(1)} is the two bytes 0x08 0x01.
    assert check(b"", timeout=5) == b"\x08\x01"
    service = b"apiextensions.fn.proto.v1.FunctionRunnerService"
    assert check(b"\x0a" + bytes([len(service)]) + service, timeout=5) == b"\x08\x01"


def test_refuses_to_start_without_tls_or_insecure(tmp_path):
    proc = subprocess.run([str(BINARY), "--address", f"127.0.0.1:{free_port()}"], capture_output=True, text=True,
                          timeout=20, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "TLS_SERVER_CERTS_DIR" in lines[0] and "--insecure" in lines[0]


def test_busy_port_fails_loudly(server):
    proc = subprocess.run([str(BINARY), "--insecure", "--address", server.address], capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0
    assert "cannot listen on" in proc.stderr


def test_every_call_logs_one_json_line_without_secrets(server):
    import json
    _, stub = stub_for(server.address)
    req = model_cache_request(tag="log-me")
    req.credentials["creds"].credential_data.data["password"] = b"do-not-log-this-secret"
    stub.RunFunction(req, timeout=10)
    lines = [json.loads(l) for l in server.log().splitlines() if l.startswith("{")]
    calls = [l for l in lines if l.get("msg") == "RunFunction" and l.get("tag") == "log-me"]
    assert len(calls) == 1
    assert calls[0]["xrKind"] == "ModelCache" and calls[0]["xrNamespace"] == "ml-team" and calls[0]["xrName"] == "qwen-2-5"
    assert "durationMs" in calls[0] and "level" in calls[0] and "ts" in calls[0]
    assert "do-not-log-this-secret" not in server.log()


@pytest.mark.parametrize("attempt", range(3))
def test_sigterm_answers_every_call_received_before_it(start_server, attempt):
    """16 concurrent clients, most of their calls queued when SIGTERM arrives: every one is answered."""
    server = start_server("--insecure", "--grace-period", "30")
    channel, _ = stub_for(server.address)
    call_raw = raw_call(channel)
    # Large requests keep calls in flight long enough to signal during them;
    # serialized up front so that the client is not the slow part.
    body = model_cache_request([f"c-{i:04d}" for i in range(1000)]).SerializeToString()
    call_raw(body, timeout=60)  # warm the connection
    before = server.log().count('"msg":"RunFunction"')
    results, errors = [], []
    started = threading.Barrier(17)

    def call():
        started.wait()
        try:
            results.append(len(pb.RunFunctionResponse.FromString(call_raw(body, timeout=60)).desired.resources))
        except grpc.RpcError as e:
            errors.append(e.code())

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    started.wait()
    # Signal once the server has finished one of them: by then all 16 were sent
    # over one connection long ago, and the others are running or queued.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.log().count('"msg":"RunFunction"') == before:
        time.sleep(0.001)
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    done_at_signal = server.log().count('"msg":"RunFunction"') - before
    for t in threads:
        t.join()
    code = server.proc.wait(timeout=60)
    elapsed = time.monotonic() - t0
    assert code == 0
    assert elapsed < 30
    assert errors == [], f"calls received before SIGTERM failed: {errors}"
    # Every call completed with a whole response (claims for all, and for the first wave the
    # ServiceAccount each Job waits on: hydrator.md §4)...
    assert results == [1000 + 256] * 16
    # ...including calls that had not finished when the signal arrived.
    assert done_at_signal < 16
    assert '"msg":"Stopped"' in server.log()


@pytest.mark.parametrize("attempt", range(3))
def test_sigterm_under_a_call_loop_refuses_later_calls_cleanly(start_server, attempt):
    """16 clients call back to back; at SIGTERM each call is either answered or refused
    with UNAVAILABLE (retry elsewhere), never CANCELLED."""
    server = start_server("--insecure", "--grace-period", "10")
    body = model_cache_request(["gpu-east", "gpu-west"]).SerializeToString()
    started = threading.Barrier(17)
    outcomes = []

    def client():
        channel, _ = stub_for(server.address)
        call = raw_call(channel)
        call(body, timeout=30)
        started.wait()
        answered = 0
        while True:
            try:
                call(body, timeout=30)
                answered += 1
            except grpc.RpcError as e:
                outcomes.append((answered, e.code()))
                return

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.5)
    server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=60)
    assert server.proc.wait(timeout=30) == 0
    assert len(outcomes) == 16
    assert [code for _, code in outcomes] == [grpc.StatusCode.UNAVAILABLE] * 16, outcomes
    assert sum(answered for answered, _ in outcomes) > 0


def _log_lines(server):
    return [json.loads(l) for l in server.log().splitlines() if l.startswith("{")]


def test_calls_whose_deadline_passed_in_the_queue_are_not_composed(start_server):
    server = start_server("--insecure", "--max-concurrent-calls", "1")
    channel, _ = stub_for(server.address)
    call = raw_call(channel)
    blocker = model_cache_request([f"c-{i:04d}" for i in range(2000)], tag="blocker").SerializeToString()
    small = model_cache_request(["gpu-east"], tag="short-deadline").SerializeToString()
    call(small, timeout=10)  # warm the connection
    with concurrent.futures.ThreadPoolExecutor(21) as pool:
        slow = pool.submit(call, blocker, timeout=120)
        time.sleep(0.05)  # the blocker holds the only worker

        def short(_):
            try:
                call(small, timeout=0.05)
                return "OK"
            except grpc.RpcError as e:
                return e.code().name

        codes = list(pool.map(short, range(20)))
        slow.result()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = _log_lines(server)
        composed = [l for l in lines if l.get("msg") == "RunFunction" and l.get("tag") == "short-deadline"][1:]
        skipped = [l for l in lines if l.get("logger") == "shim" and l.get("msg", "").startswith("Skipped")]
        if len(composed) + len(skipped) == 20:
            break
        time.sleep(0.05)
    assert len(composed) + len(skipped) == 20
    # No call was composed after its client's deadline had passed...
    assert all(l["waitMs"] < 50 for l in composed), composed
    # ...and while the blocker held the only worker, the queued calls ran out of time.
    assert len(skipped) >= 10, f"only {len(skipped)} skipped; blocker took {[l['durationMs'] for l in lines if l.get('tag') == 'blocker']} ms"
    assert all(l["reason"] in ("DeadlineExceeded", "Cancelled") and l["level"] == "warn" for l in skipped)
    assert codes.count("DEADLINE_EXCEEDED") >= len(skipped)
    assert server.proc.poll() is None


def test_shutdown_keeps_to_its_grace_period_with_calls_queued(start_server):
    server = start_server("--insecure", "--max-concurrent-calls", "1", "--grace-period", "1")
    channel, _ = stub_for(server.address)
    call = raw_call(channel)
    body = model_cache_request([f"c-{i:04d}" for i in range(1000)]).SerializeToString()
    call(body, timeout=60)
    one_call = max(l["durationMs"] for l in _log_lines(server) if l.get("msg") == "RunFunction") / 1000
    queued = max(20, int(3 / max(one_call, 0.01)))  # more work queued than the grace period allows

    def c(_):
        try:
            call(body, timeout=120)
            return "OK"
        except grpc.RpcError as e:
            return e.code().name

    with concurrent.futures.ThreadPoolExecutor(queued) as pool:
        futures = [pool.submit(c, i) for i in range(queued)]
        time.sleep(0.5)
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(timeout=60)
        elapsed = time.monotonic() - t0
        codes = [f.result() for f in futures]
    assert code == 0
    # The grace period, plus the one call that was composing when it ran out, plus slack.
    assert elapsed < 1 + 2 * one_call + 1.0, f"shutdown took {elapsed:.2f} s (one call {one_call:.2f} s)"
    assert codes.count("OK") >= 1
    # Calls still queued when the grace ran out are cancelled by the server
    # (the client sees UNAVAILABLE or CANCELLED: retry on another replica).
    assert set(codes) <= {"OK", "CANCELLED", "UNAVAILABLE"}, codes


def _threads(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("Threads:"))


def test_thread_count_stays_bounded_under_64_concurrent_calls(server):
    body = model_cache_request([f"c-{i:04d}" for i in range(300)]).SerializeToString()
    peak, stop = [0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _threads(server.proc.pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    channels = [stub_for(server.address)[0] for _ in range(64)]  # one connection per client
    try:
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            sizes = list(pool.map(lambda ch: len(raw_call(ch)(body, timeout=120)), channels))
    finally:
        stop.set()
        sampler.join()
    assert len(set(sizes)) == 1 and sizes[0] > 0
    assert peak[0] <= 40, f"{peak[0]} threads under 64 concurrent calls"


def test_hostile_nesting_is_rejected_and_the_server_keeps_serving(server):
    # Objects are decoded as far as they are read, one level at a time (so no
    # depth can exhaust the stack): nesting beyond the bound is refused when the
    # function reads into it, here by passing desired state through; a deep
    # part of the spec the function never descends into is not decoded at all.
    channel, stub = stub_for(server.address)
    for where, depth, expected in (("spec", 100, "answered"), ("desired", 5000, "refused"),
                                   ("spec", 5000, "answered")):
        req = pb.RunFunctionRequest(meta=pb.RequestMeta(tag="deep"))
        req.observed.composite.resource.update({"apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
                                                "metadata": {"name": "x", "namespace": "y"}})
        if where == "spec":
            v = req.observed.composite.resource.fields["spec"]
        else:
            v = req.desired.resources["deep"].resource.fields["spec"]
        for _ in range(depth):
            v = v.struct_value.fields["a"]
        v.string_value = "bottom"
        if expected == "answered":
            rsp = pb.RunFunctionResponse.FromString(raw_call(channel)(req.SerializeToString(), timeout=10))
            assert rsp.results[0].severity == pb.SEVERITY_FATAL  # an invalid spec, answered
        else:
            with pytest.raises(grpc.RpcError) as err:
                raw_call(channel)(req.SerializeToString(), timeout=10)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "nest deeper" in err.value.details()
    assert stub.RunFunction(foreign_request(), timeout=10).meta.tag == "abc"


def test_max_concurrent_calls_queues_calls_instead_of_running_them_all(start_server):
    import json
    server = start_server("--insecure", "--max-concurrent-calls", "1")
    body = model_cache_request(["gpu-%03d" % i for i in range(300)]).SerializeToString()
    channel, _ = stub_for(server.address)
    call = raw_call(channel)
    expected = call(body, timeout=20)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: call(body, timeout=60), range(12)))
    assert answers == [expected] * 12
    lines = [json.loads(l) for l in server.log().splitlines() if l.startswith("{")]
    assert any(l.get("msg") == "Serving" and l.get("maxConcurrentCalls") == 1 for l in lines)
    waits = [l["waitMs"] for l in lines if l.get("msg") == "RunFunction"]
    assert len(waits) == 13
    # With one slot and six callers at once, calls must have queued behind each other.
    assert max(waits) > 0.5


def test_max_concurrent_calls_out_of_range_is_refused():
    proc = subprocess.run([str(BINARY), "--insecure", "--max-concurrent-calls", "0"], capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0
    assert "--max-concurrent-calls 0 must be between 1 and 1024" in proc.stderr


def test_unknown_method_is_unimplemented_and_the_server_keeps_serving(server):
    channel, stub = stub_for(server.address)
    other = channel.unary_unary("/apiextensions.fn.proto.v1.FunctionRunnerService/Other",
                                request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as err:
        other(b"", timeout=10)
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "unknown method /apiextensions.fn.proto.v1.FunctionRunnerService/Other" in err.value.details()
    assert stub.RunFunction(foreign_request(), timeout=10).meta.tag == "abc"
