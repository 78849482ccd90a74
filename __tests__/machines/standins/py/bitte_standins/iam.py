"""IAM identity-policy evaluation for the stand-in AWS endpoints.

Follows AWS's documented evaluation logic for a single account with identity-based policies only
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny wins, otherwise an Allow is needed, otherwise implicit deny. Action and Resource
match with `*`/`?` wildcards (actions case-insensitively); NotAction/NotResource invert.
Condition operators: the string, ARN, Bool and Null families, `...IfExists`, and the
ForAllValues/ForAnyValue set qualifiers
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
A key absent from the request context makes its condition false (true for ...IfExists and the
negated operators' documented behaviour is kept: a missing key does not match a Not operator either
unless IfExists), exactly as the reference says.
"""
import re


def _list(v):
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _wild(pattern, value, case_insensitive=False):
    # IAM wildcards: * any run, ? one character; nothing else is special.
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.IGNORECASE | re.DOTALL if case_insensitive else re.DOTALL) is not None


def _match_action(patterns, action):
    return any(_wild(p, action, True) for p in _list(patterns))


def _match_resource(patterns, arn):
    return any(_wild(p, arn) for p in _list(patterns))


def _cond_one(op, want, have):
    """One operator against one request value (strings), want: list of policy values."""
    want = [str(w).lower() if op.startswith("Bool") else str(w) for w in want]
    if op in ("StringEquals", "ArnEquals"):
        return have in want
    if op == "StringNotEquals" or op == "ArnNotEquals":
        return have not in want
    if op == "StringEqualsIgnoreCase":
        return have.lower() in [w.lower() for w in want]
    if op == "StringNotEqualsIgnoreCase":
        return have.lower() not in [w.lower() for w in want]
    if op in ("StringLike", "ArnLike"):
        return any(_wild(w, have) for w in want)
    if op in ("StringNotLike", "ArnNotLike"):
        return not any(_wild(w, have) for w in want)
    if op == "Bool":
        return have.lower() in want
    raise ValueError(f"condition operator {op} is not supported by the stand-in")


def _condition(block, ctx):
    for raw_op, kv in (block or {}).items():
        qualifier, _, op = raw_op.rpartition(":")
        if_exists = op.endswith("IfExists")
        if if_exists:
            op = op[: -len("IfExists")]
        for key, want in kv.items():
            have = ctx.get(key.lower())
            want = _list(want)
            if op == "Null":
                present = have is not None
                if ("true" in [str(w).lower() for w in want]) == present:
                    return False
                continue
            if have is None:
                if if_exists:
                    continue
                return False
            values = _list(have)
            results = [_cond_one(op, want, str(v)) for v in values]
            if qualifier == "ForAllValues":
                ok = all(results)
            elif qualifier == "ForAnyValue":
                ok = any(results)
            else:
                ok = results[0] if results else False
            if not ok:
                return False
    return True


def evaluate(documents, action, resource, context):
    """'Allow' or 'Deny' (explicit) or 'ImplicitDeny'. context keys are matched case-insensitively."""
    ctx = {k.lower(): v for k, v in context.items()}
    allowed = False
    for doc in documents:
        for st in _list(doc.get("Statement")):
            if "Action" in st and not _match_action(st["Action"], action):
                continue
            if "NotAction" in st and _match_action(st["NotAction"], action):
                continue
            if "Resource" in st and not _match_resource(st["Resource"], resource):
                continue
            if "NotResource" in st and _match_resource(st["NotResource"], resource):
                continue
            if not _condition(st.get("Condition"), ctx):
                continue
            if st.get("Effect") == "Deny":
                return "Deny"
            if st.get("Effect") == "Allow":
                allowed = True
    return "Allow" if allowed else "ImplicitDeny"

