"""The report (hydrator.md §4): one JSON object, bounded to 4,096 bytes, written to a file and a ConfigMap.

While bytes move it is written about every 10 s (never more often than every 5 s). The
`Complete` and `Failed` reports are mandatory: when the ConfigMap (or the file) cannot take
them after retries, the program exits 1 (the rerun finds the marker and only re-reports).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from datetime import datetime, timezone

from .inputs import Durations

LIMIT = 4096
MAX_WARNINGS = 10
WARNING_LIMIT = 200
FINAL_PHASES = ("Complete", "Failed")


def now_rfc3339() -> str:
    """The current time, RFC 3339 UTC to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(report: dict) -> bytes:
    """The report as compact JSON under 4,096 bytes: warnings go first, then the failure message shrinks."""
    report = dict(report)
    data = json.dumps(report, separators=(",", ":"), ensure_ascii=True).encode()
    if len(data) > LIMIT and "warnings" in report:
        del report["warnings"]
        data = json.dumps(report, separators=(",", ":"), ensure_ascii=True).encode()
    if len(data) > LIMIT and report.get("failure"):
        failure = dict(report["failure"])
        excess = len(data) - LIMIT
        failure["message"] = failure["message"][: max(0, len(failure["message"]) - excess - 16)]
        report["failure"] = failure
        data = json.dumps(report, separators=(",", ":"), ensure_ascii=True).encode()
    if len(data) > LIMIT:
        report["source"] = report.get("source", "")[:256]
        data = json.dumps(report, separators=(",", ":"), ensure_ascii=True).encode()
    return data


class ReportWriteError(Exception):
    """A mandatory (Complete or Failed) report could not be written."""


class Reporter:
    """Keeps the report's state and writes it to its destinations at the right cadence."""

    def __init__(self, job: str, source: str, report_file: str, configmap, durations: Durations):
        self.durations = durations
        self.report_file = report_file
        self.configmap = configmap
        started = now_rfc3339()
        self.state: dict = {
            "version": 1,
            "job": job[:253],
            "source": source[:1024],
            "phase": "Resolving",
            "totalBytes": 0,
            "doneBytes": 0,
            "files": 0,
            "filesDone": 0,
            "verifiedFiles": 0,
            "bytesPerSecond": 0,
            "startedAt": started,
            "updatedAt": started,
        }
        self._last_write = 0.0
        self._rate_mark = (time.monotonic(), 0)

    def warn(self, text: str) -> None:
        """Adds a warning (at most 10 of at most 200 characters)."""
        warnings = self.state.setdefault("warnings", [])
        if len(warnings) < MAX_WARNINGS:
            warnings.append(text[:WARNING_LIMIT])

    def update(self, **fields) -> None:
        """Sets report fields without writing."""
        self.state.update(fields)

    def set_done(self, done: int) -> None:
        """Records the bytes on the claim so far; writes when the cadence says so (about every 10 s)."""
        self.state["doneBytes"] = done
        now = time.monotonic()
        if now - self._last_write >= max(self.durations.report_interval, self.durations.report_min_interval):
            self._rate()
            self.write()

    def _rate(self) -> None:
        now, done = time.monotonic(), self.state["doneBytes"]
        then, before = self._rate_mark
        if now - then >= 1.0:
            self.state["bytesPerSecond"] = max(0, int((done - before) / (now - then)))
            self._rate_mark = (now, done)

    def phase(self, phase: str) -> None:
        """Moves to a new phase and writes it at once (a handful of writes per run)."""
        self.state["phase"] = phase
        if phase == "Downloading":
            self._rate_mark = (time.monotonic(), self.state["doneBytes"])
        self.write()

    def finish(self, phase: str, failure: dict | None = None) -> None:
        """Writes the final report; raises ReportWriteError if it could not be written after retries."""
        now = now_rfc3339()
        self.state.update(phase=phase, completedAt=now, updatedAt=now)
        if phase == "Complete":
            self.state["bytesPerSecond"] = 0
        if failure:
            self.state["failure"] = failure
        self.write(mandatory=True)

    def write(self, mandatory: bool = False) -> None:
        """Writes the report to the file and the ConfigMap; optional writes log their failures."""
        self.state["updatedAt"] = now_rfc3339()
        self._last_write = time.monotonic()
        data = encode(self.state)
        attempts = self.durations.retry_attempts if mandatory else 1
        errors = []
        for attempt in range(attempts):
            errors = self._write_once(data)
            if not errors:
                return
            if attempt + 1 < attempts:
                time.sleep(self.durations.retry_base * 2**attempt)
        for e in errors:
            print(f"hydrator: could not write the report: {e}", file=sys.stderr)
        if mandatory:
            raise ReportWriteError("; ".join(errors))

    def _write_once(self, data: bytes) -> list[str]:
        errors = []
        if self.report_file:
            try:
                write_report_file(self.report_file, data)
            except OSError as exc:
                errors.append(f"file: {type(exc).__name__} errno {exc.errno}")
        if self.configmap is not None:
            try:
                self.configmap.write(data)
            except Exception as exc:  # any failure: logged by type (and the API server's status), retried
                # Never the exception's text: the HTTP client quotes a header value it refuses (the token).
                status = getattr(exc, "status", None)
                detail = f" HTTP {status}" if isinstance(status, int) else ""
                errors.append(f"ConfigMap {self.configmap.name}: {type(exc).__name__}{detail}"[:300])
        return errors


def write_report_file(path: str, data: bytes) -> None:
    """Atomic replacement for a regular file; truncate and rewrite for the termination log (a bind mount)."""
    in_place = path == "/dev/termination-log" or os.path.ismount(path)
    try:
        in_place = in_place or not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        pass
    if in_place:
        with open(path, "wb") as f:
            f.write(data)
        return
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
