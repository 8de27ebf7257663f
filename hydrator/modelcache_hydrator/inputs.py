"""The program's inputs, read from the environment and validated once (hydrator.md §1).

Nothing here is ever shell text. Test-only knobs (`MODELCACHE_TEST_*`) shorten the
lease, report, retry and stall durations so the test suite runs in seconds; a Job never sets them.
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
    """How long the lease, the report cadence and retries wait, in seconds; and the stall rule: a download moving
    less than `stall_bytes` in `stall_seconds` is stalled (stall.Stall)."""

    lease_refresh: float = 30.0
    lease_stale: float = 300.0
    lease_give_up: float = 600.0
    lease_poll: float = 5.0
    report_interval: float = 10.0
    report_min_interval: float = 5.0
    retry_base: float = 2.0
    retry_attempts: int = 5
    stall_seconds: float = 60.0
    stall_bytes: int = 1 << 20

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
            stall_seconds=knob("STALL_SECONDS", d.stall_seconds),
            stall_bytes=int(knob("STALL_BYTES", d.stall_bytes)),
        )


@dataclass(frozen=True)
class Inputs:
    """Validated inputs: the source, the optional pin, the claim and where to report."""

    source: str
    kind: str  # hf, s3, oci or pvc: MODELCACHE_SOURCE's scheme
    repo: str  # hf: the repo id; s3: `<bucket>[/<prefix>]`; oci: `<registry>/<repository>`; pvc: `<claim>[/<subPath>]`
    revision: str | None  # hf: the revision; oci: the tag or `sha256:<hex>` digest
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
        """The staged identity of the pin (common to the function, sources.md §1): `hf://<repo>@<commit>` (the
        repo as the user wrote it), `s3://<bucket>[/<prefix>]@<listing digest>`, `oci://<registry>/<repository>@
        sha256:<hex>` (the tag dropped), and a volume's identity itself."""
        if self.kind == "pvc":
            return self.source
        return f"{self.kind}://{self.repo}@{commit}"


SCHEMES = ("hf", "s3", "oci", "pvc")
_SOURCE_FORMS = "hf://<repo>[@<revision>], s3://<bucket>[/<prefix>], oci://<registry>/<repository>(:<tag>|@sha256:<hex>) or pvc://<claim>[/<subPath>]"
_S3 = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?(?:/[^/]+)*", re.ASCII)
_OCI = re.compile(
    r"(?P<repo>(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)"
    r"(?::(?P<port>[0-9]{1,5}))?/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))",
    re.ASCII,
)
_PVC = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(?:/[^/]+)*", re.ASCII)
_PINS = {"hf": (_COMMIT, "a 40-hex commit"), "s3": (re.compile(r"[0-9a-f]{64}", re.ASCII), "a 64-hex listing digest"),
         "oci": (re.compile(r"sha256:[0-9a-f]{64}", re.ASCII), "a sha256:<64 hex> manifest digest")}


def source_kind(source: str) -> str:
    """The scheme of `MODELCACHE_SOURCE` (hf, s3, oci, pvc), or raises BadInput naming the forms."""
    if not source:
        raise bad_input(f"MODELCACHE_SOURCE is required: {_SOURCE_FORMS}")
    scheme, sep, _rest = source.partition("://")
    if not sep or scheme not in SCHEMES:
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r} must be one of {_SOURCE_FORMS}")
    return scheme


def parse_source(source: str) -> tuple[str, str | None]:
    """Splits `hf://<repo>[@<revision>]`, or raises BadInput naming the rule."""
    if not source.startswith("hf://"):
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r} must start with hf:// (hf://<repo>[@<revision>])")
    repo, at, revision = source[len("hf://") :].partition("@")
    if not _REPO.fullmatch(repo) or "--" in repo or ".." in repo:
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r}: repo {repo[:200]!r} is not owner/name or name")
    if at and not _valid_revision(revision):
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r}: revision {revision[:200]!r} is not a git revision")
    return repo, (revision if at else None)


def parse_any_source(source: str) -> tuple[str, str, str | None]:
    """`(kind, repo, revision)` of any kind's identity (see `Inputs`), or raises BadInput naming the rule."""
    kind = source_kind(source)
    rest = source[len(kind) + 3 :]
    if kind == "hf":
        return (kind, *parse_source(source))
    from .files import is_safe_path

    if kind == "s3":
        bucket, _, prefix = rest.partition("/")
        if not _S3.fullmatch(rest) or rest.endswith("/") or (prefix and not is_safe_path(prefix, on_disk=False)):
            raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r}: not s3://<bucket>[/<prefix>] with a safe prefix")
        return kind, rest, None
    if kind == "oci":
        match = _OCI.fullmatch(rest)
        # A host of DNS labels and a port a socket can take: else every request fails alike (exit 2, not 1).
        if not match or (match.group("port") and not 0 < int(match.group("port")) < 65536):
            raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r}: not oci://<registry>/<repository>(:<tag>|@sha256:<hex>)")
        return kind, match.group("repo"), match.group("tag") or match.group("digest")
    claim, _, sub = rest.partition("/")
    if not _PVC.fullmatch(rest) or (sub and not is_safe_path(sub)):
        raise bad_input(f"MODELCACHE_SOURCE {source[:200]!r}: not pvc://<claim>[/<subPath>] with a safe subPath")
    return kind, rest, None


def _check_pin(kind: str, source: str, revision: str | None, commit: str | None) -> None:
    """The pin's form per kind; a pin must agree with a pin the source itself names."""
    if commit is None:
        return
    if kind == "pvc":
        if commit != source:
            raise bad_input(f"MODELCACHE_COMMIT {commit[:200]!r} must be the volume's identity {source[:200]!r}")
        return
    pattern, rule = _PINS[kind]
    if not pattern.fullmatch(commit):
        raise bad_input(f"MODELCACHE_COMMIT {commit[:200]!r} is not {rule}")
    if revision and pattern.fullmatch(revision) and revision != commit:
        raise bad_input(f"MODELCACHE_COMMIT {commit} differs from the pin {revision} the source names")


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
    kind, repo, revision = parse_any_source(env.get("MODELCACHE_SOURCE", ""))
    commit = env.get("MODELCACHE_COMMIT") or None
    _check_pin(kind, env["MODELCACHE_SOURCE"], revision, commit)
    keep = env.get("MODELCACHE_KEEP", "").split()
    for name in keep:
        if not _KEEP.fullmatch(name):
            raise bad_input(f"MODELCACHE_KEEP entry {name[:200]!r} is not a rev-* directory name")
    claim = env.get("MODELCACHE_CLAIM_BYTES", "").strip()
    if kind == "pvc" and not claim:
        claim = "0"  # a volume is checked, never written: no space check needs the claim's size
    elif not _CLAIM.fullmatch(claim) or int(claim) == 0:
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
        kind=kind,
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
