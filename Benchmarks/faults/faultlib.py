# SPDX-License-Identifier: Apache-2.0
#
# Shared helpers of the fault-injection scripts in Benchmarks/faults (python3 standard library only):
# starting and stopping `foryou serve`, a small keep-alive HTTP client, an event-id ledger that remembers
# what the server acknowledged, and the final checks against foryou.sqlite and the audit log.

import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

READY = re.compile(r"foryou ready: listening on http://([0-9.]+):([0-9]+)")


def log(message):
    print(time.strftime("%H:%M:%S ") + message, flush=True)


class Server:
    """One `foryou serve` process on a data folder; stderr goes (appended) to a log file."""

    def __init__(self, binary, data, log_path, env=None, extra_args=()):
        self.binary = binary
        self.data = data
        self.log_path = log_path
        self.env = env
        self.extra_args = list(extra_args)
        self.process = None
        self.port = None
        self.ready_seconds = None
        self._log_offset = 0
        self._rate_limit_flag = None

    def supports_rate_limit(self):
        if self._rate_limit_flag is None:
            help_text = subprocess.run([self.binary, "serve", "--help"], capture_output=True, text=True).stdout
            self._rate_limit_flag = "--rate-limit" in help_text
        return self._rate_limit_flag

    def spawn(self):
        """Starts the server with --port 0 without waiting for it."""
        args = [self.binary, "serve", "--data", self.data, "--port", "0"]
        if self.supports_rate_limit():
            args += ["--rate-limit", "0"]
        args += self.extra_args
        with open(self.log_path, "ab") as handle:
            handle.write(("---- start %s\n" % time.strftime("%H:%M:%S")).encode())
            self._log_offset = handle.tell()
        log_file = open(self.log_path, "ab")
        self._began = time.monotonic()
        self.process = subprocess.Popen(args, stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL, env=self.env)
        log_file.close()
        self.port = None

    def wait_ready(self, timeout=20.0):
        """Waits for the ready line; returns True when it came (self.port, self.ready_seconds set)."""
        while time.monotonic() - self._began < timeout:
            with open(self.log_path, "rb") as handle:
                handle.seek(self._log_offset)
                text = handle.read().decode("utf-8", "replace")
            match = READY.search(text)
            if match:
                self.port = int(match.group(2))
                self.ready_seconds = time.monotonic() - self._began
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.01)
        return False

    def start(self, timeout=20.0):
        """Starts the server and waits for its ready line; returns True when ready."""
        self.spawn()
        return self.wait_ready(timeout)

    def log_tail(self, lines=15):
        with open(self.log_path, "rb") as handle:
            handle.seek(self._log_offset)
            return "\n".join(handle.read().decode("utf-8", "replace").splitlines()[-lines:])

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """SIGKILL, then reap."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        return self.process.wait()

    def stop(self, timeout=30.0):
        """SIGTERM (a clean stop); returns the exit status, or None when it had to be killed."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


class Client:
    """A keep-alive HTTP/1.1 client for one thread. request() returns (status, json-or-text) or raises
    OSError / http.client.HTTPException when no answer came (the outcome is then unknown)."""

    def __init__(self, port, timeout=30.0):
        self.port = port
        self.timeout = timeout
        self.connection = None

    def request(self, method, path, body=None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except Exception:
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        return response.status, payload

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                pass
            self.connection = None


def error_code(payload):
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return payload["error"].get("code"), payload["error"].get("message")
    return None, None


ITEM_COUNT = 200
USER_COUNT = 2000


def items_body():
    return {"items": [
        {"id": "i%d" % n, "creator": "c%d" % (n % 40), "tags": ["t%d" % (n % 17), "t%d" % (n % 5)],
         "duration_ms": 15000 + 100 * n, "language": "en"} for n in range(ITEM_COUNT)]}


def make_event(event_id):
    """A valid event for id `event_id`; the same id always gives the same event (so a resend is a true
    resend)."""
    local = random.Random(event_id)
    user = "u%d" % local.randrange(USER_COUNT)
    item = "i%d" % local.randrange(ITEM_COUNT)
    kind = local.choice(["view", "view", "view", "like", "skip", "impression", "share"])
    event = {"id": event_id, "user": user, "item": item, "type": kind}
    if kind == "view":
        event["watch_ms"] = local.randrange(0, 60000)
    return event


class Ledger:
    """What the client side knows about every event id it sent. Thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()          # every id ever sent
        self.acknowledged = set()  # ids in a request answered 200 (accepted or duplicate: stored)
        self.users = set()         # users with at least one acknowledged event (their export must answer 200)
        self.unknown = set()       # ids whose request got no answer (connection reset, timeout) and no later 200
        self.refused = set()       # ids in a request answered with an error status (nothing stored, per the API)
        self.statuses = {}         # "200", "503 unavailable", "connection error", ... -> requests
        self.problems = []         # anomalies in answers (checked as failures)
        self._next = 0

    def new_ids(self, count, prefix="e"):
        with self.lock:
            first = self._next
            self._next += count
        return ["%s%09d" % (prefix, n) for n in range(first, first + count)]

    def count_status(self, key):
        with self.lock:
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def problem(self, text):
        with self.lock:
            if len(self.problems) < 200:
                self.problems.append(text)

    def post_events(self, client, ids, expect_fresh=True):
        """Sends one batch; records the outcome. Returns (status or None, payload)."""
        events = [make_event(i) for i in ids]
        with self.lock:
            self.sent.update(ids)
        try:
            status, payload = client.request("POST", "/v1/events", {"events": events})
        except (OSError, http.client.HTTPException) as error:
            self.count_status("no answer (%s)" % type(error).__name__)
            with self.lock:
                self.unknown.update(i for i in ids if i not in self.acknowledged)
            return None, None
        code, message = error_code(payload)
        self.count_status("%d%s" % (status, " " + code if code else ""))
        if status == 200:
            if not isinstance(payload, dict) or payload.get("rejected"):
                self.problem("200 with rejections or odd body: %r" % (payload,)[:300])
            else:
                accepted, duplicates = payload.get("accepted", -1), payload.get("duplicates", -1)
                if accepted + duplicates != len(ids):
                    self.problem("accepted %d + duplicates %d != %d sent" % (accepted, duplicates, len(ids)))
                if expect_fresh and duplicates != 0:
                    self.problem("fresh ids answered with %d duplicates (never sent before)" % duplicates)
            with self.lock:
                self.acknowledged.update(ids)
                self.users.update(event["user"] for event in events)
                self.unknown.difference_update(ids)
                self.refused.difference_update(ids)
        else:
            with self.lock:
                self.refused.update(i for i in ids if i not in self.acknowledged and i not in self.unknown)
        return status, payload


def stored_event_ids(data):
    """(list of ids, count(*), count(distinct id)) from foryou.sqlite; the server must be stopped."""
    connection = sqlite3.connect(os.path.join(data, "foryou.sqlite"))
    try:
        ids = [row[0] for row in connection.execute("SELECT id FROM events")]
        total, distinct = connection.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone()
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()
    return ids, total, distinct, integrity


def audit_verify(binary, data):
    result = subprocess.run([binary, "audit", "verify", "--data", data], capture_output=True, text=True)
    return result.returncode, (result.stdout + result.stderr).strip()


class Checks:
    """Collects named PASS/FAIL lines and prints the summary."""

    def __init__(self, name):
        self.name = name
        self.results = []

    def check(self, ok, text):
        self.results.append((bool(ok), text))
        print(("  PASS  " if ok else "  FAIL  ") + text, flush=True)
        return ok

    def finish(self, facts):
        print("\n==== %s summary" % self.name)
        for key, value in facts:
            print("  %-34s %s" % (key, value))
        failed = [text for ok, text in self.results if not ok]
        print("\n%s: %s (%d checks, %d failed)" % (self.name, "FAIL" if failed else "PASS", len(self.results), len(failed)))
        for text in failed:
            print("  failed: " + text)
        sys.stdout.flush()
        return 1 if failed else 0


def final_store_checks(checks, binary, data, ledger, label=None):
    """The checks every script ends with, the server stopped: (a) acknowledged ids stored, (b) no id
    twice, (c) nothing stored that was never sent, (d) audit log verifies. Returns facts for the summary."""
    ids, total, distinct, integrity = stored_event_ids(data)
    prefix = label + ": " if label else ""
    stored = set(ids)
    lost = ledger.acknowledged - stored
    phantom = stored - ledger.sent
    checks.check(integrity == "ok", prefix + "PRAGMA integrity_check of foryou.sqlite: %s" % integrity)
    checks.check(not lost, prefix + "(a) every acknowledged event is stored: %d acknowledged, %d lost%s" % (
        len(ledger.acknowledged), len(lost), (" e.g. " + ", ".join(sorted(lost)[:5])) if lost else ""))
    checks.check(total == distinct == len(stored), prefix + "(b) no event stored twice: count(*) %d, count(distinct id) %d" % (total, distinct))
    checks.check(not phantom, prefix + "(c) no stored event was never sent: %d stored, %d unknown to the client%s" % (
        len(stored), len(phantom), (" e.g. " + ", ".join(sorted(phantom)[:5])) if phantom else ""))
    status, output = audit_verify(binary, data)
    last = output.splitlines()[-1] if output else "exit %d" % status
    checks.check(status == 0, prefix + "(d) `foryou audit verify` exits 0 (exit %d: %s)" % (status, last))
    return {
        "sent": len(ledger.sent), "acknowledged": len(ledger.acknowledged), "lost": len(lost),
        "unknown": len(ledger.unknown), "unknown_stored": len(ledger.unknown & stored),
        "refused": len(ledger.refused), "refused_stored": len(ledger.refused & stored),
        "stored": len(stored), "rows": total, "distinct": distinct, "twice": total - distinct, "audit": last,
    }


def store_facts(result):
    return [
        ("events sent", result["sent"]),
        ("events acknowledged (200)", result["acknowledged"]),
        ("acknowledged but lost", result["lost"]),
        ("unknown outcome (no answer)", "%d, of which stored: %d" % (result["unknown"], result["unknown_stored"])),
        ("refused, never acknowledged later", "%d, of which stored anyway: %d" % (result["refused"], result["refused_stored"])),
        ("stored rows / distinct ids", "%d / %d" % (result["rows"], result["distinct"])),
        ("audit verify", result["audit"]),
    ]


def format_statuses(statuses):
    return ", ".join("%s: %d" % (key, value) for key, value in sorted(statuses.items(), key=lambda kv: -kv[1]))


# Swift runtime traps print "Fatal error:" and a backtrace; swift-log prints the level after the time stamp.
ANOMALY = re.compile(r"unhandled error|Fatal error|error=internal|[+-][0-9]{4} critical |Program crashed|Segmentation fault|Current stack trace")


def server_log_check(checks, log_path, label=None):
    """The server log must hold no unhandled error, `internal`, critical line or Swift crash report."""
    with open(log_path, "rb") as handle:
        lines = handle.read().decode("utf-8", "replace").splitlines()
    bad = [line for line in lines if ANOMALY.search(line)]
    errors = sum(1 for line in lines if " error " in line)
    checks.check(not bad, "%sthe server log has no unhandled/internal/critical error or crash (%d lines, %d error lines%s)" % (
        label + ": " if label else "", len(lines), errors, ("; e.g. " + bad[0][:300]) if bad else ""))
    return errors


def status_key(status, payload):
    """A status and its error code, e.g. "503 unavailable", for counting answers."""
    if status is None:
        return "no answer"
    code, _ = error_code(payload)
    return "%d%s" % (status, " " + code if code else "")
