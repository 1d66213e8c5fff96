#!/usr/bin/env python3
"""saga_seed.py -- the seed's saga orchestrator in Python, for bench/jobs-evcep.sh.

The way the seed (and most hand-written saga orchestrators) do it: a
state manager holding a dict of saga states by (saga type, correlation
id), and an orchestrator that, per event, parses it with json.loads,
looks the saga up, advances it and writes the next command, the
compensations or the status.  Timeouts sit in a heap (heapq) and fire
when event time passes them, so this is not a strawman: the per-event
cost is one dict lookup plus the record writing, as in evcep.

Same semantics and record formats as `evcep --saga` for a saga file with
a start type and no globs (started / next command / completed;
compensations newest first and failed; timeout at the deadline, an event
exactly at the deadline still counts; events that fit no running saga
are warnings on stderr), so on the same input both write the same bytes
(bench/gencep --saga writes money in integer cents so that a JSON round
trip keeps every byte).

usage: saga_seed.py SAGA.json FILE
"""
import heapq
import json
import sys
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US = timedelta(microseconds=1)


def parse_time(s):
    return (datetime.fromisoformat(s.replace("Z", "+00:00")) - EPOCH) // US


def fmt_time(us):
    return (EPOCH + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_duration(s):
    units = {"ms": 1000, "s": 1000000, "m": 60000000, "h": 3600000000, "d": 86400000000}
    for u in ("ms", "s", "m", "h", "d"):
        if s.endswith(u) and s[:-len(u)].isdigit():
            return int(s[:-len(u)]) * units[u]
    return int(s) * 1000000


def get_path(doc, path):
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class SagaState:
    def __init__(self, definition, key, started_at, pos):
        self.definition = definition
        self.key = key
        self.started_at = started_at
        self.pos = pos
        self.current_step = 0
        self.context = {}
        self.events = []
        self.deadline = started_at + definition["timeout_us"]
        self.alive = True


class StateManager:
    """Saga states by (saga type, key)."""

    def __init__(self):
        self.sagas = {}

    def get(self, name, key):
        return self.sagas.get((name, dumps(key)))

    def save(self, state):
        self.sagas[(state.definition["saga"], dumps(state.key))] = state

    def delete(self, state):
        state.alive = False
        del self.sagas[(state.definition["saga"], dumps(state.key))]


class Orchestrator:
    def __init__(self, definitions, out):
        self.definitions = definitions
        self.states = StateManager()
        self.timeouts = []  # (deadline, pos, state)
        self.pos = 0
        self.out = out

    def emit(self, rec):
        self.out.write(dumps(rec) + "\n")

    def command(self, st, cmd, step, kind, trigger, at):
        self.emit({"record": "command", "saga": st.definition["saga"], "key": st.key, "command": cmd,
                   "step": step["name"], "kind": kind, "trigger_event": trigger, "at": fmt_time(at),
                   "context": st.context})

    def status(self, st, status, at, failed_step=None):
        steps = st.definition["steps"]
        self.emit({"record": "saga", "saga": st.definition["saga"], "key": st.key, "status": status,
                   "at": fmt_time(at), "started_at": fmt_time(st.started_at),
                   "steps_completed": [s["name"] for s in steps[:st.current_step]],
                   "failed_step": failed_step, "events": st.events})

    def compensate(self, st, trigger, at):
        steps = st.definition["steps"]
        for i in range(st.current_step - 1, -1, -1):
            if steps[i].get("compensate"):
                self.command(st, steps[i]["compensate"], steps[i], "compensation", trigger, at)

    def next_command(self, st, trigger, at):
        steps = st.definition["steps"]
        if st.current_step == len(steps):
            self.status(st, "completed", at)
            self.states.delete(st)
            return
        step = steps[st.current_step]
        if step.get("command"):
            self.command(st, step["command"], step, "step", trigger, at)

    def check_timeouts(self, now):
        while self.timeouts and self.timeouts[0][0] < now:
            deadline, _, st = heapq.heappop(self.timeouts)
            if not st.alive:
                continue
            if st.definition.get("on_timeout", "compensate") != "report":
                self.compensate(st, None, deadline)
            self.status(st, "timed_out", deadline)
            self.states.delete(st)

    def merge(self, st, event):
        payload = event.get("payload")
        if isinstance(payload, dict):
            st.context = {**st.context, **payload}

    def handle(self, event):
        t = parse_time(event["timestamp"])
        self.check_timeouts(t)
        etype = event.get("event_type")
        eid = event.get("event_id")
        for d in self.definitions:
            key = get_path(event, d.get("key", "metadata.correlation_id"))
            st = self.states.get(d["saga"], key)
            if etype == d["start"]:
                if st is None:
                    st = SagaState(d, key, t, self.pos)
                    self.pos += 1
                    self.merge(st, event)
                    st.events.append(eid)
                    self.states.save(st)
                    heapq.heappush(self.timeouts, (st.deadline, st.pos, st))
                    self.status(st, "started", t)
                    self.next_command(st, eid, t)
                else:
                    self.warn(eid, etype)
                continue
            for j, step in enumerate(d["steps"]):
                if etype == step.get("failed"):
                    if st is not None and j >= st.current_step:
                        st.events.append(eid)
                        self.compensate(st, eid, t)
                        self.status(st, "failed", t, step["name"])
                        self.states.delete(st)
                    else:
                        self.warn(eid, etype)
                    break
                if etype == step["done"]:
                    if st is not None and j == st.current_step:
                        st.events.append(eid)
                        self.merge(st, event)
                        st.current_step += 1
                        self.next_command(st, eid, t)
                    else:
                        self.warn(eid, etype)
                    break

    def warn(self, eid, etype):
        sys.stderr.write("saga_seed: warning: event %s (%s) fits no running saga\n" % (dumps(eid), etype))


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    definitions = spec if isinstance(spec, list) else [spec]
    for d in definitions:
        d["timeout_us"] = parse_duration(d["timeout"])
    out = sys.stdout
    orch = Orchestrator(definitions, out)
    with open(sys.argv[2]) as f:
        for line in f:
            if line.strip():
                orch.handle(json.loads(line))
    out.flush()


if __name__ == "__main__":
    main()
