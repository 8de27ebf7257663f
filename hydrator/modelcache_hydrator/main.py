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


def _trust_extra_ca_bundle() -> None:
    """Appends the platform's CA bundle (`MODELCACHE_CA_BUNDLE`, a file the Job mounts from a ConfigMap,
    hydrator.md §5) to the system bundle, and points every client at the result: `SSL_CERT_FILE`
    (httpx), `REQUESTS_CA_BUNDLE` and `AWS_CA_BUNDLE`. A missing or empty bundle is bad input (exit 2)."""
    extra_path = os.environ.get("MODELCACHE_CA_BUNDLE")
    if not extra_path:
        return
    import ssl
    import tempfile

    from .failure import bad_input

    try:
        with open(extra_path, "rb") as f:
            extra = f.read()
    except OSError as exc:
        raise bad_input(f"MODELCACHE_CA_BUNDLE {extra_path!r} cannot be read: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in extra:
        raise bad_input(f"MODELCACHE_CA_BUNDLE {extra_path!r} holds no PEM certificate")
    system = b""
    for candidate in (ssl.get_default_verify_paths().cafile, "/etc/ssl/certs/ca-certificates.crt", _certifi()):
        if candidate and os.path.isfile(candidate):
            with open(candidate, "rb") as f:
                system = f.read()
            break
    fd, combined = tempfile.mkstemp(prefix="modelcache-ca-", suffix=".pem")
    with os.fdopen(fd, "wb") as f:
        f.write(system.rstrip(b"\n") + b"\n" + extra if system else extra)
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE"):
        os.environ[name] = combined


def _certifi() -> str | None:
    try:
        import certifi

        return certifi.where()
    except ImportError:
        return None


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
        _trust_extra_ca_bundle()
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
