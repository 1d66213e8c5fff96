#!/usr/bin/env python3
"""cep_seed.py -- the seed's style of CEP in Python, for bench/jobs-evcep.sh.

The way hand-written CEP scripts (the seed's among them) do it: every
event is parsed with json.loads, then for each pattern the whole list of
partial matches is scanned, comparing each one's key with the event's
(no index by key), partial matches are Python dicts holding the parsed
events, and expiry is another full scan of every list on every event.

Same semantics as evcep for the three seed patterns (relaxed contiguity,
every first-step event starts a run, inclusive within, trailing absence
firing when the time passes the deadline, skip past-last, drop at end of
input), so the two must print the same number of matches.  Unlike the
seed, the absence check here does fire: the comparison is about speed.

usage: cep_seed.py FILE  (prints one line per match: pattern, key, ids)
"""
import json
import sys
from datetime import datetime


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


# pattern: (name, steps, within seconds, key function)
# step: (type, condition or None, absent)
PATTERNS = [
    ("fraud", [("Login", None, False),
               ("HighValueTransaction", lambda e: e["payload"]["amount"] > 10000, False),
               ("LocationChange", lambda e: e["payload"]["distance"] > 1000, False)],
     300, lambda e: e.get("user_id")),
    ("abandoned", [("AddToCart", None, False), ("ViewCart", None, False), ("Checkout", None, True)],
     1800, lambda e: e.get("session_id")),
    ("outage", [("ServiceError", None, False)] * 3, 60, lambda e: e.get("user_id")),
]


def fits(step, e):
    typ, cond, _ = step
    return e.get("event_type") == typ and (cond is None or cond(e))


def emit(name, key, events):
    print(json.dumps({"pattern": name, "key": key, "events": [x["event_id"] for x in events]}))


def main():
    partials = [[] for _ in PATTERNS]
    with open(sys.argv[1], encoding="utf-8") as f:
        for n, line in enumerate(f):
            e = json.loads(line)
            e["_n"] = n
            t = ts(e["timestamp"])
            # expiry: scan everything
            for pi, (name, steps, within, _) in enumerate(PATTERNS):
                keep = []
                fired = {}
                for p in partials[pi]:
                    if p["key"] in fired and p["events"][0]["_n"] <= fired[p["key"]]:
                        continue  # past-last after a fired absence
                    if t > p["start"] + within:
                        if p["pos"] < len(steps) and steps[p["pos"]][2]:
                            emit(name, p["key"], p["events"])  # absence held
                            fired[p["key"]] = p["events"][-1]["_n"]
                    else:
                        keep.append(p)
                partials[pi] = [p for p in keep if not (p["key"] in fired and p["events"][0]["_n"] <= fired[p["key"]])]
            for pi, (name, steps, within, keyf) in enumerate(PATTERNS):
                key = keyf(e)
                done = []
                keep = []
                for p in partials[pi]:
                    if p["key"] != key:
                        keep.append(p)
                        continue
                    step = steps[p["pos"]]
                    if step[2]:
                        if fits(step, e):
                            continue  # the absent event came: cancelled
                    elif fits(step, e):
                        p["events"].append(e)
                        p["pos"] += 1
                        if p["pos"] == len(steps):
                            done.append(p)
                            continue
                    keep.append(p)
                if done:
                    emit(name, key, done[0]["events"])
                    # past-last: this key's other runs all started before
                    keep = [p for p in keep if p["key"] != key]
                partials[pi] = keep
                if not done and fits(steps[0], e):
                    p = {"key": key, "pos": 1, "events": [e], "start": t}
                    if len(steps) == 1:
                        emit(name, key, p["events"])
                    else:
                        partials[pi].append(p)


if __name__ == "__main__":
    main()
