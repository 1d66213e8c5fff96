#!/usr/bin/env python3
"""bench/dlq-breaker.py — the comparison for `evdlq breaker` in
bench/jobs-evdlq.sh: a per-key circuit breaker written the way a Python
service usually writes one (a class with a state, a failure count and an
open timestamp, one instance per key in a dict), replaying an outcome log.

Same rules as evdlq breaker with its defaults: the 5th failure since the
breaker last closed opens it; the first outcome 30 s after it opened
half-opens it and is the first probe; of 3 probes a failure re-opens it
and 3 successes close it.  Reads NDJSON outcomes {"svc","ok","timestamp"}
on stdin (or the file named), writes one JSON line per transition.
"""
import json
import sys
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_US = timedelta(microseconds=1)


class CircuitBreaker:
    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(self, failure_threshold=5, recovery_timeout_us=30_000_000,
                 half_open_max_calls=3, success_threshold=3):
        self.failure_threshold = failure_threshold
        self.recovery_timeout_us = recovery_timeout_us
        self.half_open_max_calls = half_open_max_calls
        self.success_threshold = success_threshold
        self.state = self.CLOSED
        self.failure_count = 0
        self.opened_at = None
        self.half_open_calls = 0
        self.half_open_successes = 0

    def _to(self, state, at, reason, out):
        out.append((self.state, state, at, reason))
        self.state = state

    def record(self, ok, at):
        """Feed one outcome; returns the transitions it caused."""
        out = []
        if self.state == self.OPEN:
            if at - self.opened_at < self.recovery_timeout_us:
                return out
            self._to(self.HALF_OPEN, at, "open_timeout", out)
            self.half_open_calls = 0
            self.half_open_successes = 0
        if self.state == self.CLOSED:
            if not ok:
                self.failure_count += 1
                if self.failure_count >= self.failure_threshold:
                    self._to(self.OPEN, at, "failure_threshold", out)
                    self.opened_at = at
            return out
        if self.half_open_calls >= self.half_open_max_calls:
            return out
        self.half_open_calls += 1
        if not ok:
            self._to(self.OPEN, at, "probe_failure", out)
            self.opened_at = at
        else:
            self.half_open_successes += 1
            if self.half_open_successes >= self.success_threshold:
                self._to(self.CLOSED, at, "success_threshold", out)
                self.failure_count = 0
        return out


def micros(text):
    dt = datetime.fromisoformat(text)
    return (dt - EPOCH) // ONE_US


def main():
    src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    breakers = {}
    write = sys.stdout.write
    for line in src:
        if not line.strip():
            continue
        ev = json.loads(line)
        key = ev.get("svc")
        at_text = ev["timestamp"]
        at = micros(at_text)
        cb = breakers.get(key)
        if cb is None:
            cb = breakers[key] = CircuitBreaker()
        for frm, to, _, reason in cb.record(ev["ok"] is True, at):
            stamp = datetime.fromisoformat(at_text).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            write(json.dumps({"key": key, "from": frm, "to": to, "at": stamp, "reason": reason},
                             separators=(",", ":"), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
