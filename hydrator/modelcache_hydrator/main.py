"""The program's entry point: environment in, staged revision and report out, exit code (hydrator.md §1)."""

from __future__ import annotations

import os
import signal
import sys


def _prepare_environment() -> None:
    """Settings the hub client reads at import: no Xet (it neither resumes nor honours HF_ENDPOINT), no telemetry."""
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # httpx2 reads SSL_CERT_FILE; a bundle given only as REQUESTS_CA_BUNDLE is honoured the same way.
    if not os.environ.get("SSL_CERT_FILE") and os.environ.get("REQUESTS_CA_BUNDLE"):
        os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"]


def _terminated(signum, _frame):
    # SIGTERM (pod deletion, the Job's deadline): unwind so the lease is released; no final report.
    raise SystemExit(128 + signum)


def main() -> int:
    """Runs one staging and returns the exit code (0, 1, 2, 10, 11 or 12); `--version` prints the version."""
    from . import __version__

    if sys.argv[1:] == ["--version"]:
        print(__version__)
        return 0
    if sys.argv[1:]:
        print("usage: python -m modelcache_hydrator [--version]  (inputs come from MODELCACHE_* variables)", file=sys.stderr)
        return 2
    _prepare_environment()
    signal.signal(signal.SIGTERM, _terminated)
    from .failure import EXIT_TRANSIENT, HydrationFailure, classify
    from .inputs import Durations, read_inputs, report_settings
    from .kube import ConfigMapWriter
    from .report import Reporter, ReportWriteError

    report_file, configmap_name, sa_dir, job, source = report_settings()
    configmap = ConfigMapWriter(configmap_name, sa_dir) if configmap_name else None
    reporter = Reporter(job, source, report_file, configmap, Durations.from_env(dict(os.environ)))
    try:
        reporter.phase("Resolving")
        inputs = read_inputs()
        from .stage import stage

        return stage(inputs, reporter)
    except ReportWriteError:
        print("hydrator: the final report could not be written; exiting 1 so the Job retries", file=sys.stderr)
        return EXIT_TRANSIENT
    except Exception as exc:  # every failure ends in a Failed report with its code
        failure = exc if isinstance(exc, HydrationFailure) else classify(exc, "staging")
        print(f"hydrator: failed ({failure.reason}, exit {failure.code}): {failure.message}", file=sys.stderr)
        try:
            reporter.finish("Failed", {"code": failure.code, "reason": failure.reason, "message": failure.message})
        except ReportWriteError:
            return EXIT_TRANSIENT
        return failure.code


if __name__ == "__main__":
    sys.exit(main())
