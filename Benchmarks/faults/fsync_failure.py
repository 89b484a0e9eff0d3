# SPDX-License-Identifier: Apache-2.0
#
# The fsync-failure run behind fsync-failure.sh (which compiles the LD_PRELOAD shim). See
# fsync-failure.sh for the usage.

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (status_key, server_log_check, Checks, Client, Ledger, Server, error_code, final_store_checks, format_statuses,  # noqa: E402
                      items_body, log, store_facts)


class Run:
    def __init__(self, binary, work, shim):
        self.binary = binary
        self.work = work
        self.data = os.path.join(work, "data")
        self.trigger = os.path.join(work, "fail-fsync")
        self.counter = os.path.join(work, "fsync-failures.txt")
        env = dict(os.environ, LD_PRELOAD=shim, FAULTS_FSYNC_TRIGGER=self.trigger, FAULTS_FSYNC_COUNT=self.counter)
        self.server = Server(binary, self.data, os.path.join(work, "server.log"), env=env)
        self.ledger = Ledger()
        self.checks = Checks("fsync-failure")
        self.messages = {}
        self.refused_batches = []
        self.facts = []
        self.exits = []  # (phase, exit status) of unplanned exits

    def failing(self, on):
        if on:
            open(self.trigger, "w").close()
        elif os.path.exists(self.trigger):
            os.remove(self.trigger)

    def injected(self):
        try:
            with open(self.counter) as handle:
                lines = handle.read().split()
        except FileNotFoundError:
            return {}
        counts = {}
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
        return counts

    def post(self, client, ids, expect_fresh=True):
        status, payload = self.ledger.post_events(client, ids, expect_fresh)
        if status is not None and status != 200:
            code, message = error_code(payload)
            self.messages.setdefault("%d %s" % (status, code), message)
            self.refused_batches.append(ids)
        return status, payload

    def ingest(self, batches, threads=2, size=500):
        """`batches` batches from `threads` concurrent clients; returns {status: count}."""
        seen = {}
        lock = threading.Lock()
        remaining = [batches]

        def worker():
            client = Client(self.server.port)
            while True:
                with lock:
                    if remaining[0] == 0:
                        break
                    remaining[0] -= 1
                status, payload = self.post(client, self.ledger.new_ids(size))
                with lock:
                    key = status_key(status, payload)
                    seen[key] = seen.get(key, 0) + 1
            client.close()

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for worker_thread in workers:
            worker_thread.start()
        for worker_thread in workers:
            worker_thread.join()
        return seen

    def probes(self, label):
        client = Client(self.server.port)
        seen = {}
        for name, method, path, body in [
            ("GET /healthz", "GET", "/healthz", None),
            ("GET feed", "GET", "/v1/users/u1/feed?count=10", None),
            ("GET feed preview=true", "GET", "/v1/users/u2/feed?preview=true", None),
            ("GET export (audited)", "GET", "/v1/users/u1/export", None),
            ("PUT items", "PUT", "/v1/items", items_body()),
        ]:
            try:
                status, payload = client.request(method, path, body)
            except Exception:
                status, payload = None, None
            seen[name] = status_key(status, payload)
            code, message = error_code(payload)
            if code:
                self.messages.setdefault("%d %s" % (status, code), message)
        client.close()
        text = "; ".join("%s -> %s" % kv for kv in seen.items())
        log("%s: %s" % (label, text))
        self.facts.append((label, text))
        return seen

    def resend_refused(self, label):
        """Resends every batch refused so far; returns (accepted, duplicates, still refused batches)."""
        client = Client(self.server.port)
        batches, self.refused_batches = self.refused_batches, []
        accepted = duplicates = bad = 0
        for ids in batches:
            status, payload = self.post(client, ids, expect_fresh=False)
            if status == 200:
                accepted += payload.get("accepted", 0)
                duplicates += payload.get("duplicates", 0)
            else:
                bad += 1
        client.close()
        self.facts.append(("%s: refused batches resent" % label, "%d batches: %d accepted, %d duplicates (stored although "
                           "refused), %d refused again" % (len(batches), accepted, duplicates, bad)))
        return accepted, duplicates, bad

    def ensure_running(self, phase):
        """When the server exited by itself, records it and restarts it without failures."""
        if self.server.alive():
            return True
        self.exits.append((phase, self.server.process.returncode))
        log("%s: the server exited by itself (exit %s): %s" % (phase, self.server.process.returncode, self.server.log_tail(5)))
        self.failing(False)
        ok = self.server.start(20)
        self.checks.check(ok, "%s: after the server exited, a restart without failures recovers" % phase)
        return ok

    def main(self):
        began = time.monotonic()
        self.failing(False)
        if not self.checks.check(self.server.start(20), "the server starts with the shim preloaded"):
            return self.checks.finish([("server log", self.server.log_tail())])
        try:
            client = Client(self.server.port)
            status, _ = client.request("PUT", "/v1/items", items_body())
            client.close()
            self.checks.check(status == 200, "items upserted (status %s)" % status)
            seen = self.ingest(20)
            self.checks.check(seen == {"200": 20}, "phase 1, fsync works: 20 batches acknowledged (%s)" % format_statuses(seen))

            # Phase 2: every fsync fails. No ingest may be acknowledged.
            self.failing(True)
            seen = self.ingest(30)
            injected = self.injected()
            log("phase 2 (fsync fails): ingest %s; injected failures %s" % (format_statuses(seen), injected))
            self.facts.append(("phase 2, fsync fails: ingest", format_statuses(seen)))
            self.checks.check("200" not in seen, "phase 2: no ingest is acknowledged while fsync fails (%s)" % format_statuses(seen))
            self.checks.check(set(seen) <= {"503 unavailable"}, "phase 2: every ingest answer is 503 unavailable (%s)" % format_statuses(seen))
            self.checks.check(sum(injected.values()) > 0, "phase 2: the shim injected failures (%s)" % injected)
            probes = self.probes("phase 2: other routes while fsync fails")
            self.checks.check(probes["GET /healthz"] == "200", "phase 2: /healthz answers 200 while fsync fails")
            odd = {k: v for k, v in probes.items() if v not in ("200", "503 unavailable")}
            self.checks.check(not odd, "phase 2: every probe answers 200 or 503 unavailable (%s)" % (
                "; ".join("%s -> %s" % kv for kv in odd.items()) or "all do"))
            self.ensure_running("phase 2")

            # Phase 3: fsync works again, without a restart.
            self.failing(False)
            recovered, tries, start = None, 0, time.monotonic()
            client = Client(self.server.port)
            while time.monotonic() - start < 30 and self.server.alive():
                tries += 1
                status, _ = self.post(client, self.ledger.new_ids(500))
                if status == 200:
                    recovered = time.monotonic() - start
                    break
                time.sleep(0.1)
            client.close()
            self.facts.append(("phase 3: time to recover", "%.3f s (%d tries), no restart" % (recovered, tries)
                               if recovered is not None else "not within 30 s"))
            self.checks.check(recovered is not None, "phase 3: once fsync works, ingestion succeeds without a restart (%s)" % (
                "after %.3f s, %d tries" % (recovered, tries) if recovered is not None else "it did not"))
            if not self.ensure_running("phase 3"):
                raise RuntimeError("no server")
            accepted, duplicates, bad = self.resend_refused("phase 3")
            self.checks.check(bad == 0, "phase 3: the batches refused in phase 2 are taken when resent")
            seen = self.ingest(20)
            self.checks.check(seen == {"200": 20}, "phase 3: 20 more batches acknowledged (%s)" % format_statuses(seen))
            probes = self.probes("phase 3: other routes after recovery")
            self.checks.check(all(v == "200" for v in probes.values()), "phase 3: every probe answers 200 after recovery")

            # Phase 4: fsync fails, then SIGKILL while failing, then a restart without failures. The
            # refused batches' rows may be in the WAL and come back at recovery (allowed: never acknowledged).
            self.failing(True)
            seen = self.ingest(10)
            self.checks.check("200" not in seen, "phase 4: no ingest is acknowledged while fsync fails (%s)" % format_statuses(seen))
            phase4_refused = [ids for ids in self.refused_batches]
            self.server.kill()
            self.failing(False)
            restarted = self.server.start(20)
            self.checks.check(restarted, "phase 4: after a SIGKILL while fsync failed, the server restarts (%s)" % (
                "ready in %.2f s" % self.server.ready_seconds if restarted else self.server.log_tail()))
            if restarted:
                accepted, duplicates, bad = self.resend_refused("phase 4 (after SIGKILL + restart)")
                self.checks.check(bad == 0, "phase 4: the refused batches are taken when resent after the restart")
                log("phase 4: %d refused batches resent after restart: %d accepted, %d already stored" % (
                    len(phase4_refused), accepted, duplicates))

            # Phase 5: a start while fsync fails (the engine.opened audit append needs an fsync).
            self.server.stop()
            self.failing(True)
            started = self.server.start(15)
            if started:
                client = Client(self.server.port)
                status, payload = self.post(client, self.ledger.new_ids(100))
                client.close()
                outcome = "ready in %.2f s; an ingest answered %s" % (self.server.ready_seconds, status_key(status, payload))
                self.server.stop()
            else:
                self.server.kill()
                lines = [l for l in self.server.log_tail(20).splitlines() if l.strip()]
                outcome = "did not start, exit %s: %s" % (self.server.process.returncode, lines[-1][:300] if lines else "")
            log("phase 5: start while fsync fails: " + outcome)
            self.facts.append(("phase 5: start while fsync fails", outcome))
            self.checks.check(started or self.server.process.returncode not in (None, 0, -9),
                              "phase 5: a start while fsync fails serves or exits with an error (%s)" % outcome)
            self.failing(False)
            restarted = self.server.start(20)
            self.checks.check(restarted, "phase 5: with fsync working again the server starts")
            if restarted:
                self.resend_refused("phase 5")
                seen = self.ingest(5)
                self.checks.check(seen == {"200": 5}, "phase 5: ingestion answers 200 (%s)" % format_statuses(seen))
        finally:
            self.failing(False)
            exit_status = self.server.stop()
        self.checks.check(exit_status == 0, "the server stops cleanly on SIGTERM (exit %s)" % exit_status)
        self.checks.check(not self.exits, "the server never exited by itself (%s)" % (self.exits or "none"))
        five = {k: v for k, v in self.ledger.statuses.items() if k.startswith("5") and not k.startswith("503 unavailable")}
        self.checks.check(not five, "no 5xx but 503 unavailable on ingestion (%s)" % format_statuses(self.ledger.statuses))
        self.checks.check(all(self.messages.values()), "every error carried a message")
        self.checks.check(not self.ledger.problems, "every 200 answer was consistent%s" % (
            "" if not self.ledger.problems else ": " + "; ".join(self.ledger.problems[:3])))
        server_log_check(self.checks, self.server.log_path)
        result = final_store_checks(self.checks, self.binary, self.data, self.ledger)
        injected = self.injected()
        return self.checks.finish([
            ("machine", "%d cores" % os.cpu_count()),
            ("binary", self.binary),
        ] + self.facts + [
            ("injected sync failures", ", ".join("%s %d" % kv for kv in sorted(injected.items()))),
            ("all ingest answers", format_statuses(self.ledger.statuses)),
        ] + [("message of " + k, v) for k, v in sorted(self.messages.items())] + store_facts(result) + [
            ("wall time (s)", "%.1f" % (time.monotonic() - began)),
        ])


if __name__ == "__main__":
    sys.exit(Run(sys.argv[1], sys.argv[2], sys.argv[3]).main())
