"""Shared helpers: start the built function binary on a free loopback port."""

import os
import socket
import subprocess
import time
from pathlib import Path

import grpc
import pytest
from crossplane.function.proto.v1 import run_function_pb2 as pb
from crossplane.function.proto.v1 import run_function_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("FUNCTION_BIN", ROOT / ".build" / "debug" / "function-modelcache"))
V1_METHOD = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
V1BETA1_METHOD = "/apiextensions.fn.proto.v1beta1.FunctionRunnerService/RunFunction"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running function-modelcache process."""

    def __init__(self, args, tmp_path, env=None):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(BINARY), "--address", self.address, *args],
            stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.log()}")
            if '"msg":"Serving"' in self.log():
                return
            time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture
def start_server(tmp_path):
    servers = []

    def start(*args, env=None):
        s = Server(list(args), tmp_path, env)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def server(start_server):
    return start_server("--insecure")


def stub_for(address: str):
    channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20)])
    return channel, pb_grpc.FunctionRunnerServiceStub(channel)


def raw_call(channel, method=V1_METHOD):
    """A unary call that sends and returns raw bytes, for byte-level checks."""
    return channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)


def model_cache_request(clusters=("gpu-east",), tag="e2e") -> pb.RunFunctionRequest:
    req = pb.RunFunctionRequest(meta=pb.RequestMeta(tag=tag))
    req.observed.composite.resource.update({
        "apiVersion": "modelplane.ai/v1alpha1", "kind": "ModelCache",
        "metadata": {"name": "qwen-2-5", "namespace": "ml-team"},
        "spec": {
            "artifact": {"source": {"huggingFace": {"repo": "Qwen/Qwen2.5-0.5B-Instruct"}}},
            "mount": {"path": "/models/qwen"},
        },
    })
    # A ModelCache also asks for its consumers (Usages); answered: none.
    req.required_resources["consumers"].SetInParent()
    items = req.required_resources["clusters"].items
    for name in clusters:
        item = items.add()
        item.resource.update({
            "apiVersion": "modelplane.ai/v1alpha1", "kind": "InferenceCluster",
            "metadata": {"name": name},
            "spec": {"storage": {"rwxCache": {"storageClassName": "fast-rwx", "defaultSizeGiB": 300}}},
            "status": {"providerConfigRef": {"name": f"pc-{name}"}},
        })
    return req
