#!/usr/bin/env python3
"""Extracts a configuration key schema from Go struct tags (our own code; reads fetched source).

    extract.py --tag mapstructure --root config.Config --pkg config=/src/agent/config [--pkg ...]

Each --pkg maps a Go package name to a directory of that product's source checked out at the
pinned version; the source is read, never copied. Output (stdout, JSON): a tree where each key
maps to null (a scalar, a free-form map or interface{}: any sub-keys accepted) or to an object
{"keys": {...}} for a nested struct (lists and maps of structs included: HCL/JSON blocks).
`,squash` fields are merged into their parent, `-` fields are skipped, as the decoders do.
"""
import argparse
import json
import os
import re
import sys

STRUCT_RE = re.compile(r"^type\s+(\w+)\s+struct\s*\{\s*$")
FIELD_RE = re.compile(r"^\s*(\w+)?\s*([\w\.\*\[\]{}]+(?:\s*\{\})?)?\s*`([^`]*)`")
TAG_RE = re.compile(r'(\w+):"([^"]*)"')


def parse_pkg(pkg, directory):
    structs = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".go") or name.endswith("_test.go"):
            continue
        # Enterprise-only files are not in the CE binary we stand in for.
        if name.endswith("_ent.go"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            lines = f.read().splitlines()
        i = 0
        while i < len(lines):
            m = STRUCT_RE.match(lines[i])
            if not m:
                i += 1
                continue
            fields = []
            depth = 1
            i += 1
            while i < len(lines) and depth > 0:
                line = lines[i].split("//", 1)[0] if "`" not in lines[i] else lines[i]
                depth += line.count("{") - line.count("}")
                if depth == 1 and "`" in line:
                    parts = line.strip().split("`")
                    head = parts[0].split()
                    tags = dict(TAG_RE.findall(parts[1]))
                    if len(head) == 1:  # embedded
                        fields.append((head[0], head[0], tags))
                    elif len(head) >= 2:
                        fields.append((head[0], " ".join(head[1:]), tags))
                i += 1
            structs[(pkg, m.group(1))] = fields
    return structs


def base_type(t):
    t = t.strip()
    while True:
        if t.startswith("*"):
            t = t[1:]
        elif t.startswith("[]"):
            t = t[2:]
        elif t.startswith("map["):
            return None  # a map: free-form keys (HCL/JSON decoders accept any sub-key)
        else:
            break
    return t


def build(structs, pkg, typ, tag, stack):
    key = (pkg, typ)
    if key not in structs or key in stack:
        return None
    out = {}
    labeled = False
    for fname, ftype, tags in structs[key]:
        spec = tags.get(tag)
        if spec is None:
            continue
        parts = spec.split(",")
        name, opts = parts[0], parts[1:]
        if "key" in opts:
            labeled = True  # `name "label" { ... }`: JSON nests the body under the label
        if name == "-" or "unusedKeys" in opts or "key" in opts or "unusedKeyPositions" in opts:
            continue
        sub = None
        bt = base_type(ftype)
        if bt and bt != "interface{}":
            p, t = (bt.split(".", 1) if "." in bt else (pkg, bt))
            sub = build(structs, p, t, tag, stack | {key})
        if "squash" in opts or name == "":
            if sub:
                out.update(sub["keys"])
            continue
        out[name] = sub
    return {"keys": out, "label": True} if labeled else {"keys": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", required=True)
    ap.add_argument("--root", required=True, help="pkg.Type")
    ap.add_argument("--pkg", action="append", default=[], help="name=dir")
    ap.add_argument("--free", action="append", default=[], help="a block decoded separately without an unused-key check: any sub-key")
    ap.add_argument("--merge", action="append", default=[], help="pkg.Type whose keys are top-level keys too (decoded from the same object)")
    ap.add_argument("--block", action="append", default=[], help="name=pkg.Type[,label]: a block the parser decodes by hand into that type; ,label when it takes a label (listener \"tcp\")")
    ap.add_argument("--source", required=True, help="where and at which version the source was taken")
    args = ap.parse_args()
    structs = {}
    for p in args.pkg:
        name, d = p.split("=", 1)
        structs.update(parse_pkg(name, d))
    rp, rt = args.root.split(".", 1)
    tree = build(structs, rp, rt, args.tag, frozenset())
    if tree is None:
        sys.exit(f"root type {args.root} not found")
    for ref in args.merge:
        p, t = ref.split(".", 1)
        tree["keys"].update(build(structs, p, t, args.tag, frozenset())["keys"])
    for b in args.block:
        name, ref = b.split("=", 1)
        ref, _, flag = ref.partition(",")
        p, t = ref.split(".", 1)
        tree["keys"][name] = build(structs, p, t, args.tag, frozenset())
        if flag == "label":
            tree["keys"][name]["label"] = True
    for block in args.free:
        tree["keys"][block] = None
    tree["_source"] = args.source + "; generated by __tests__/machines/standins/schema/regen.sh"
    json.dump(tree, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
