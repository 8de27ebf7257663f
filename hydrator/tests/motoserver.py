"""A local S3-compatible server for the tests: moto in server mode (`python -m moto.server`), on 127.0.0.1,
in its own process (so a second one can enforce authentication: `INITIAL_NO_AUTH_ACTION_COUNT=0` makes
moto check every request's access key against its IAM, and refuse unknown keys with `InvalidAccessKeyId`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from helpers import free_port, stop


class MotoServer:
    """`python -m moto.server -H 127.0.0.1 -p <free port>`; `url`, `reset()`, `close()`."""

    def __init__(self, enforce_auth: bool = False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["MOTO_CALL_RESET_API"] = "true"
        if enforce_auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        for attempt in range(5):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if self._ready():
                return
            self.process.kill()
            self.process.wait(10)
        raise RuntimeError("moto server did not start")

    def _ready(self) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # the port was taken meanwhile: try another
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=2).read()
                return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        return False

    def reset(self) -> None:
        """Forgets every bucket and object."""
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10).read()

    def close(self) -> None:
        stop(self.process)
