"""Evaluates the CEL rules (x-kubernetes-validations) of our XRDs, as the API server
does at admission, with cel-python: the structural schema alone (jsonschema) cannot
see them. Rules that compare with the old object (oldSelf, transition rules) need an
update to judge and are not evaluated here."""

import celpy

_ENV = celpy.Environment()
_PROGRAMS = {}


def _program(rule):
    if rule not in _PROGRAMS:
        _PROGRAMS[rule] = _ENV.program(_ENV.compile(rule))
    return _PROGRAMS[rule]


def violations(schema, value, path=""):
    """The (path, message) of every CEL rule `value` breaks, walking `schema` alongside it."""
    out = []
    if value is None:
        return out
    for v in schema.get("x-kubernetes-validations", []):
        if "oldSelf" in v["rule"]:
            continue
        try:
            ok = _program(v["rule"]).evaluate({"self": celpy.json_to_cel(value)})
        except celpy.CELEvalError as e:  # an error at admission rejects the object too
            ok = False
            v = {**v, "message": f"{v.get('message', v['rule'])} (evaluation error: {e})"}
        if not bool(ok):
            out.append((path or "<root>", v.get("message", v["rule"])))
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for k, sub in value.items():
            if k in props:
                out += violations(props[k], sub, f"{path}.{k}" if path else k)
            elif isinstance(schema.get("additionalProperties"), dict):
                out += violations(schema["additionalProperties"], sub, f"{path}.{k}" if path else k)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += violations(schema["items"], item, f"{path}[{i}]")
    return out
