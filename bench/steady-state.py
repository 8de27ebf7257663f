"""Turns a benchmark request from ../shared/bench into the call Crossplane makes
once this function's requirements are answered:

    /work/venv/bin/python bench/steady-state.py IN OUT [--staged]

The independent driver wrote its requests before the ModelCache composer asked
for its consumers (Usages): without an answer the composer returns only its
requirements. This adds an empty `consumers` answer to required_resources (no
replica uses the cache), as Crossplane's second call carries.

A status with clusters also gets `remoteNamespace: default` and
`clustersElsewhere: 0`, as this release writes them with every status (without
them, each claim's Object is read).

With --staged, every observed status.clusters[] entry of phase Ready also gets
`staged`: the identity the composer now latches Ready on (lifecycle.md §1),
`hf://<repo>` for the default branch, i.e. the entry's `source` without the
`@main` the driver (and earlier versions of this function) wrote. Without it, a
Ready cluster has nothing staged under the lifecycle and is hydrated again.
Nothing else in the request changes.
"""
import argparse
import sys

from crossplane.function.proto.v1 import run_function_pb2 as pb
from google.protobuf import struct_pb2


def identity(source):
    """The default branch's identity: `hf://<repo>@main` is `hf://<repo>`."""
    return source[: -len("@main")] if source.endswith("@main") else source


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--staged", action="store_true", help="Ready clusters carry staged = their source's identity")
    args = parser.parse_args()

    request = pb.RunFunctionRequest()
    with open(args.input, "rb") as f:
        request.ParseFromString(f.read())
    changes = []
    if "consumers" not in request.required_resources:
        request.required_resources["consumers"].SetInParent()
        changes.append("required_resources.consumers = {} (no Usages)")
    if args.staged:
        status = request.observed.composite.resource.fields.get("status")
        clusters = status.struct_value.fields.get("clusters") if status is not None else None
        staged = 0
        for entry in clusters.list_value.values if clusters is not None else []:
            fields = entry.struct_value.fields
            if fields.get("phase", struct_pb2.Value()).string_value == "Ready" and "source" in fields:
                fields["staged"].string_value = identity(fields["source"].string_value)
                staged += 1
        changes.append(f"staged set on {staged} Ready status.clusters[] entries")
    status = request.observed.composite.resource.fields.get("status")
    if status is not None and "clusters" in status.struct_value.fields and "remoteNamespace" not in status.struct_value.fields:
        # This release writes where its claims are with every status; one without it is read as
        # an older release's, and each claim's Object is read instead (docs/operating.md).
        status.struct_value.fields["remoteNamespace"].string_value = "default"
        status.struct_value.fields["clustersElsewhere"].number_value = 0
        changes.append("status.remoteNamespace = default, clustersElsewhere = 0 (as this release writes them)")
    with open(args.output, "wb") as f:
        f.write(request.SerializeToString())
    print(f"{args.output}: " + "; ".join(changes or ["unchanged"]), file=sys.stderr)


if __name__ == "__main__":
    main()
