"""The program's inputs, read from the environment and validated once (hydrator.md §1).

Nothing here is ever shell text. Test-only knobs (`MODELCACHE_TEST_*`) shorten the
lease, report and retry durations so the test suite runs in seconds; a Job never sets them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .failure import bad_input

DEFAULT_ROOT = "/cache"
DEFAULT_REPORT_FILE = "/dev/termination-log"
SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# huggingface_hub's own rule for repo ids: `name` or `owner/name`, at most 96 characters each.
_REPO = re.compile(r"(?:[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?/)?[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?", re.ASCII)
# A git ref or commit: no spaces, control characters or the characters git forbids in ref names.
_REVISION = re.compile(r"[A-Za-z0-9._+=/-]{1,255}", re.ASCII)
_COMMIT = re.compile(r"[0-9a-f]{40}", re.ASCII)
_KEEP = re.compile(r"rev-[A-Za-z0-9._-]+", re.ASCII)
_EPOCH = re.compile(r"([0-9]{1,18})(?:\.([0-9]{1,18}))?", re.ASCII)
_CLAIM = re.compile(r"[0-9]{1,20}", re.ASCII)


@dataclass(frozen=True)
class Durations:
    """How long the lease, the report cadence and retries wait, in seconds."""

    lease_refresh: float = 30.0
    lease_stale: float = 300.0
    lease_give_up: float = 600.0
    lease_poll: float = 5.0
    report_interval: float = 10.0
    report_min_interval: float = 5.0
    retry_base: float = 2.0
    retry_attempts: int = 5

    @staticmethod
    def from_env(env: dict[str, str]) -> "Durations":
        """The defaults, shortened by `MODELCACHE_TEST_*` variables (tests only)."""

        def knob(name: str, default: float) -> float:
            raw = env.get("MODELCACHE_TEST_" + name)
            return float(raw) if raw else default

        d = Durations()
        return Durations(
            lease_refresh=knob("LEASE_REFRESH_SECONDS", d.lease_refresh),
            lease_stale=knob("LEASE_STALE_SECONDS", d.lease_stale),
            lease_give_up=knob("LEASE_GIVE_UP_SECONDS", d.lease_give_up),
            lease_poll=knob("LEASE_POLL_SECONDS", d.lease_poll),
            report_interval=knob("REPORT_INTERVAL_SECONDS", d.report_interval),
            report_min_interval=knob("REPORT_MIN_INTERVAL_SECONDS", d.report_min_interval),
            retry_base=knob("RETRY_BASE_SECONDS", d.retry_base),
        )


@dataclass(frozen=True)
class Inputs:
    """Validated inputs: the source, the optional pin, the claim and where to report."""

    source: str
    repo: str
    revision: str | None
    commit: str | None
    root: str
    keep: frozenset[str]
    claim_bytes: int
    epoch: tuple[int, int]
    job: str
    pod: str
    report_file: str
    report_configmap: str | None
    serviceaccount_dir: str
    durations: Durations = field(default_factory=Durations)

    def staged(self, commit: str) -> str:
        """The staged identity of `commit`: `hf://<repo>@<commit>`, the repo as the user wrote it."""
        return f"hf://{self.repo}@{commit}"


def parse_source(source: str) -> tuple[str, str | None]:
    """Splits `hf://<repo>[@<revision>]`, or raises BadInput naming the rule."""
    if not source:
        raise bad_input("MODELCACHE_SOURCE is required: hf://<repo>[@<revision>]")
    if not source.startswith("hf://"):
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r} must start with hf:// (hf://<repo>[@<revision>])")
    repo, at, revision = source[len("hf://") :].partition("@")
    if not _REPO.fullmatch(repo) or "--" in repo or ".." in repo:
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r}: repo {repo[:200]!r} is not owner/name or name")
    if at and not _valid_revision(revision):
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r}: revision {revision[:200]!r} is not a git revision")
    return repo, (revision if at else None)


def _valid_revision(revision: str) -> bool:
    return (
        bool(_REVISION.fullmatch(revision))
        and ".." not in revision
        and "//" not in revision
        and not revision.startswith("/")
        and not revision.endswith(("/", ".lock", "."))
    )


def parse_epoch(raw: str | None) -> tuple[int, int]:
    """`<generation>.<n>` (a bare integer is `<generation>.0`, a missing one `0.0`), or None when malformed."""
    if raw is None or raw.strip() == "":
        return (0, 0)
    match = _EPOCH.fullmatch(raw.strip())
    if not match:
        raise ValueError(raw)
    return (int(match.group(1)), int(match.group(2) or 0))


def read_inputs(env: dict[str, str] | None = None) -> Inputs:
    """Reads and validates every input; raises BadInput (exit 2) naming the variable, value and rule."""
    env = dict(os.environ if env is None else env)
    repo, revision = parse_source(env.get("MODELCACHE_SOURCE", ""))
    commit = env.get("MODELCACHE_COMMIT") or None
    if commit is not None and not _COMMIT.fullmatch(commit):
        raise bad_input(f"MODELCACHE_COMMIT {commit[:200]!r} is not a 40-hex commit")
    if commit and revision and _COMMIT.fullmatch(revision) and revision != commit:
        raise bad_input(f"MODELCACHE_COMMIT {commit} differs from the commit {revision} the source names")
    keep = env.get("MODELCACHE_KEEP", "").split()
    for name in keep:
        if not _KEEP.fullmatch(name):
            raise bad_input(f"MODELCACHE_KEEP entry {name[:200]!r} is not a rev-* directory name")
    claim = env.get("MODELCACHE_CLAIM_BYTES", "").strip()
    if not _CLAIM.fullmatch(claim) or int(claim) == 0:
        raise bad_input(f"MODELCACHE_CLAIM_BYTES {claim[:200]!r} must be the claim's size in bytes (a positive integer)")
    try:
        epoch = parse_epoch(env.get("MODELCACHE_EPOCH"))
    except ValueError:
        raise bad_input(f"MODELCACHE_EPOCH {env['MODELCACHE_EPOCH'][:200]!r} is not <generation>.<n>") from None
    configmap = env.get("MODELCACHE_REPORT_CONFIGMAP") or None
    if configmap is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", configmap):
        raise bad_input(f"MODELCACHE_REPORT_CONFIGMAP {configmap[:200]!r} is not a Kubernetes object name")
    return Inputs(
        source=env["MODELCACHE_SOURCE"],
        repo=repo,
        revision=revision,
        commit=commit,
        root=env.get("MODELCACHE_ROOT") or DEFAULT_ROOT,
        keep=frozenset(keep),
        claim_bytes=int(claim),
        epoch=epoch,
        job=env.get("MODELCACHE_JOB", ""),
        pod=env.get("MODELCACHE_POD", ""),
        report_file=env.get("MODELCACHE_REPORT_FILE") or DEFAULT_REPORT_FILE,
        report_configmap=configmap,
        serviceaccount_dir=env.get("MODELCACHE_TEST_SERVICEACCOUNT_DIR") or SERVICEACCOUNT_DIR,
        durations=Durations.from_env(env),
    )


def report_settings(env: dict[str, str] | None = None) -> tuple[str, str | None, str, str, str]:
    """What the report needs even when other inputs are bad: file, ConfigMap, SA dir, job, source."""
    env = dict(os.environ if env is None else env)
    configmap = env.get("MODELCACHE_REPORT_CONFIGMAP") or None
    if configmap is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", configmap):
        configmap = None
    return (
        env.get("MODELCACHE_REPORT_FILE") or DEFAULT_REPORT_FILE,
        configmap,
        env.get("MODELCACHE_TEST_SERVICEACCOUNT_DIR") or SERVICEACCOUNT_DIR,
        env.get("MODELCACHE_JOB", ""),
        env.get("MODELCACHE_SOURCE", ""),
    )
