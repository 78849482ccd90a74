"""Holds: a request stopped at the server BEFORE it is applied, so a test can crash its caller at
an exact step of the bootstrap (a crash production sees mid-protocol) and then let it go.

faults.json {"hold": [{"id": "vault-init", "source": "vault", "event": "init", "node": "core-1",
                       "name": "/bitte/c/vault/root-token", "then": "drop", "maxSeconds": 900}]}
- source/event: "ssm" + the SSM target (`PutParameter`, name = the parameter), or a shared-state
  rpc: the product + its op (`consul` `bootstrap`, `vault` `init`, `vault` `autopilot`...).
- node (optional): only that node's request; without it the first matching node's, and from then
  on only that node's (its retries are held too, so a client timeout cannot slip one through).
- On the first match the server writes <stateDir>/held/<id> (the node's name) and records a
  `hold` event; every matching request waits until <stateDir>/released/<id> exists (bounded by
  maxSeconds, default 900). Then "drop" (default) closes the connection unanswered: the request
  never happened. "apply" serves it: applied, but its caller (crashed meanwhile) never saw the answer.
- A released hold is spent. The server never writes faults.json for holds (the test owns it).
"""
import json
import os
import threading
import time


class Dropped(Exception):
    """The held request is not applied: the handler closes the connection without an answer."""


class Holds:
    def __init__(self, state_dir, events):
        self.state_dir = state_dir
        self.events = events
        self.lock = threading.Lock()
        self.bound = {}  # id -> node holding it

    def _entries(self):
        try:
            with open(os.path.join(self.state_dir, "faults.json"), encoding="utf-8") as f:
                return list(json.load(f).get("hold", []))
        except (FileNotFoundError, ValueError, AttributeError):
            return []

    def _path(self, kind, hid):
        return os.path.join(self.state_dir, kind, hid)

    def check(self, node, source, event, name=None):
        """Returns at once when nothing holds this request; otherwise waits for its release and
        then returns ("apply") or raises Dropped ("drop")."""
        entry = None
        with self.lock:
            for h in self._entries():
                hid = str(h.get("id", ""))
                if not hid or h.get("source") != source or h.get("event") != event:
                    continue
                if h.get("name") is not None and h.get("name") != name:
                    continue
                if os.path.exists(self._path("released", hid)):
                    continue
                owner = h.get("node") or self.bound.get(hid)
                if owner is not None and owner != node:
                    continue
                if hid not in self.bound:
                    self.bound[hid] = node
                    os.makedirs(os.path.join(self.state_dir, "held"), exist_ok=True)
                    with open(self._path("held", hid), "w", encoding="utf-8") as f:
                        f.write(node + "\n")
                    self.events(node, source, "hold", id=hid, target=event, name=name)
                entry = h
                break
        if entry is None:
            return
        hid = str(entry["id"])
        deadline = time.monotonic() + float(entry.get("maxSeconds", 900))
        while time.monotonic() < deadline and not os.path.exists(self._path("released", hid)):
            time.sleep(0.2)
        then = entry.get("then", "drop")
        self.events(node, source, "hold-released", id=hid, then=then)
        if then != "apply":
            raise Dropped(hid)
