# SPDX-License-Identifier: Apache-2.0
#
# The disk-full run behind disk-full.sh (which mounts the tmpfs). See disk-full.sh for the usage.

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (status_key, server_log_check, Checks, Client, Ledger, Server, error_code, final_store_checks, format_statuses,  # noqa: E402
                      items_body, log, store_facts)

FILL_LIMIT_SECONDS = 180  # give up filling after this long (a FAIL: the disk never filled)
MARGIN = 1 << 20          # free bytes left beside the ballast: ingestion fills them


def free_bytes(path):
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


class Run:
    def __init__(self, binary, work, mount):
        self.binary = binary
        self.mount = mount
        self.data = os.path.join(mount, "data")
        self.server = Server(binary, self.data, os.path.join(work, "server.log"))
        self.ledger = Ledger()
        self.checks = Checks("disk-full")
        self.messages = {}        # error code -> one message seen
        self.failed_batches = []  # batches answered with an error while full: resent after space returns
        self.facts = []

    def post(self, client, ids):
        status, payload = self.ledger.post_events(client, ids)
        if status is not None and status != 200:
            code, message = error_code(payload)
            self.messages.setdefault("%d %s" % (status, code), message)
            self.failed_batches.append(ids)
        return status, payload

    def fill(self, client, label):
        """Ingests batches of 500 until answers turn into errors; then 20 more batches while full."""
        began = time.monotonic()
        first_error_at, statuses = None, {}
        accepted_before = len(self.ledger.acknowledged)
        while time.monotonic() - began < FILL_LIMIT_SECONDS:
            status, payload = self.post(client, self.ledger.new_ids(500))
            key = status_key(status, payload)
            statuses[key] = statuses.get(key, 0) + 1
            if status is None and not self.server.alive():
                break
            if status != 200 and first_error_at is None:
                first_error_at = time.monotonic() - began
                log("%s: first error after %.1f s: %s (free %d bytes)" % (label, first_error_at, key, free_bytes(self.mount)))
                for _ in range(20):
                    status, payload = self.post(client, self.ledger.new_ids(500))
                    key = status_key(status, payload)
                    statuses[key] = statuses.get(key, 0) + 1
                break
        acknowledged = len(self.ledger.acknowledged) - accepted_before
        log("%s: %s; %d events acknowledged while filling" % (label, format_statuses(statuses), acknowledged))
        self.facts.append(("%s: ingest answers" % label, format_statuses(statuses)))
        self.checks.check(first_error_at is not None, "%s: ingestion turned into errors when the disk filled (after %s s)" % (
            label, "%.1f" % first_error_at if first_error_at is not None else "never"))
        return statuses

    def probe_while_full(self, client, label):
        """What else answers while the disk is full: healthz, feeds (recorded and preview), profile, export,
        a single-event ingest, an item upsert."""
        probes = [
            ("GET /healthz", "GET", "/healthz", None),
            ("GET feed", "GET", "/v1/users/u1/feed?count=10", None),
            ("GET feed personalized=false", "GET", "/v1/users/u2/feed?personalized=false", None),
            ("GET feed preview=true", "GET", "/v1/users/u3/feed?preview=true", None),
            ("GET profile", "GET", "/v1/users/u1/profile", None),
            ("GET export (audited)", "GET", "/v1/users/u1/export", None),
            ("GET /metrics", "GET", "/metrics", None),
            ("PUT items", "PUT", "/v1/items", items_body()),
        ]
        seen = {}
        for name, method, path, body in probes:
            try:
                status, payload = client.request(method, path, body)
            except Exception as error:
                status, payload = None, str(error)
            key = status_key(status, payload)
            seen[name] = key
            code, message = error_code(payload)
            if code:
                self.messages.setdefault("%d %s" % (status, code), message)
        status, payload = self.post(client, self.ledger.new_ids(1))
        seen["POST 1 event"] = status_key(status, payload)
        log("%s: while full: %s" % (label, "; ".join("%s -> %s" % kv for kv in seen.items())))
        self.facts.append(("%s: while full" % label, "; ".join("%s -> %s" % kv for kv in seen.items())))
        self.checks.check(seen["GET /healthz"] == "200", "%s: /healthz answers 200 while the disk is full (%s)" % (label, seen["GET /healthz"]))
        self.checks.check(seen["GET feed preview=true"] == "200", "%s: a preview feed (nothing recorded) answers 200 while full (%s)"
                          % (label, seen["GET feed preview=true"]))
        allowed = ("200", "503 unavailable", "507")
        odd = {k: v for k, v in seen.items() if not v.startswith(allowed)}
        self.checks.check(not odd, "%s: every probe answered 200 or 503 unavailable while full (%s)" % (
            label, "; ".join("%s -> %s" % kv for kv in odd.items()) or "all did"))
        return seen

    def recover(self, client, label, make_space):
        """Makes space, then retries a batch until it is acknowledged; measures the time to recover."""
        make_space()
        began = time.monotonic()
        recovered_after, tries = None, 0
        while time.monotonic() - began < 30:
            tries += 1
            status, _ = self.post(client, self.ledger.new_ids(500))
            if status == 200:
                recovered_after = time.monotonic() - began
                break
            time.sleep(0.1)
        self.checks.check(recovered_after is not None and self.server.alive(),
                          "%s: ingestion succeeds again without a restart once space returns (after %s s, %d tries)" % (
                              label, "%.2f" % recovered_after if recovered_after is not None else "> 30", tries))
        self.facts.append(("%s: time to recover" % label, "%.2f s (%d tries)" % (recovered_after, tries)
                           if recovered_after is not None else "did not recover in 30 s"))
        # The batches refused while full are resent: all must be taken now. Ones that come back as
        # duplicates were stored although their answer was an error.
        refused = self.failed_batches
        self.failed_batches = []
        accepted = duplicates = bad = 0
        for ids in refused:
            status, payload = self.ledger.post_events(client, ids, expect_fresh=False)
            if status == 200:
                accepted += payload.get("accepted", 0)
                duplicates += payload.get("duplicates", 0)
            else:
                bad += 1
        self.facts.append(("%s: refused batches resent" % label, "%d batches: %d events accepted, %d duplicates (stored "
                           "although refused), %d batches refused again" % (len(refused), accepted, duplicates, bad)))
        self.checks.check(bad == 0, "%s: the %d batches refused while full are taken when resent" % (label, len(refused)))
        self.checks.check(duplicates == 0, "%s: nothing of a refused batch was stored (%d resent events were duplicates)" % (
            label, duplicates))
        ok = True
        for _ in range(10):
            status, _ = self.post(client, self.ledger.new_ids(500))
            ok = ok and status == 200
        for path in ("/v1/users/u1/feed", "/v1/users/u1/export"):
            status, _ = client.request("GET", path)
            ok = ok and status == 200
        self.checks.check(ok, "%s: after recovery 10 more batches, a feed and an export answer 200" % label)

    def main(self, mount_size):
        began = time.monotonic()
        log("disk full: data folder %s on a %s tmpfs" % (self.data, mount_size))
        if not self.checks.check(self.server.start(20), "the server starts on the tmpfs"):
            return self.checks.finish([("server log", self.server.log_tail())])
        client = Client(self.server.port)
        alive = None
        try:
            status, _ = client.request("PUT", "/v1/items", items_body())
            self.checks.check(status == 200, "items upserted (status %s)" % status)
            for _ in range(40):
                self.post(client, self.ledger.new_ids(500))
            self.checks.check(self.ledger.statuses == {"200": 40}, "20,000 events ingested before the disk fills (%s)"
                              % format_statuses(self.ledger.statuses))

            # Round 1: a ballast file leaves about 1 MiB; ingestion fills it; the ballast is deleted.
            ballast = os.path.join(self.mount, "ballast")
            size = max(0, free_bytes(self.mount) - MARGIN)
            with open(ballast, "wb") as handle:
                os.posix_fallocate(handle.fileno(), 0, size)
            log("round 1: ballast of %d bytes, %d bytes free" % (size, free_bytes(self.mount)))
            self.fill(client, "round 1 (ballast)")
            self.probe_while_full(client, "round 1")
            self.recover(client, "round 1", lambda: os.remove(ballast))

            # Round 2: ingestion alone fills the tmpfs; it is then grown (mount -o remount,size=64m).
            self.fill(client, "round 2 (no ballast)")
            self.probe_while_full(client, "round 2")
            self.recover(client, "round 2", lambda: subprocess.run(
                ["mount", "-o", "remount,size=64m", self.mount], check=True))
            alive = self.server.alive()

            # Round 3: a stop and a start while the disk is full (a ballast takes every free byte), then
            # a start once the ballast is gone.
            with open(ballast, "wb") as handle:
                if free_bytes(self.mount) > 0:
                    os.posix_fallocate(handle.fileno(), 0, free_bytes(self.mount))
            for _ in range(5):
                self.post(client, self.ledger.new_ids(500))
            client.close()
            stop_full = self.server.stop()
            self.facts.append(("round 3: SIGTERM while full", "exit %s" % stop_full))
            self.checks.check(stop_full is not None, "round 3: the server stops on SIGTERM while the disk is full (exit %s)" % stop_full)
            # A clean stop checkpoints and removes the WAL, which frees space: take that too.
            ballast2 = ballast + "2"
            with open(ballast2, "wb") as handle:
                if free_bytes(self.mount) > 0:
                    os.posix_fallocate(handle.fileno(), 0, free_bytes(self.mount))
            self.facts.append(("round 3: free bytes at the start", free_bytes(self.mount)))
            started_full = self.server.start(20)
            if started_full:
                outcome = "ready in %.2f s" % self.server.ready_seconds
                client = Client(self.server.port)
                seen = {}
                for _ in range(20):
                    status, payload = self.post(client, self.ledger.new_ids(500))
                    key = status_key(status, payload)
                    seen[key] = seen.get(key, 0) + 1
                try:
                    status, _ = client.request("GET", "/healthz")
                except Exception:
                    status = None
                outcome += "; 20 ingest batches: %s; healthz %s" % (format_statuses(seen), status)
                client.close()
                self.server.stop()
            else:
                self.server.kill()
                lines = [l for l in self.server.log_tail(40).splitlines() if l.strip()]
                outcome = "refused to start, exit %s: %s" % (self.server.process.returncode, lines[-1][:300] if lines else "")
            log("round 3: start while full: " + outcome)
            self.facts.append(("round 3: start while full", outcome))
            self.checks.check(started_full or self.server.process.returncode not in (None, 0, -9),
                              "round 3: a start while full either serves or exits with an error (%s)" % outcome)
            os.remove(ballast)
            os.remove(ballast2)
            restarted = self.server.start(20)
            self.checks.check(restarted, "round 3: once space returns the server starts (%s)" % (
                "ready in %.2f s" % self.server.ready_seconds if restarted else self.server.log_tail()))
            if restarted:
                client = Client(self.server.port)
                for ids in self.failed_batches:
                    self.ledger.post_events(client, ids, expect_fresh=False)
                self.failed_batches = []
                status, _ = self.post(client, self.ledger.new_ids(500))
                self.checks.check(status == 200, "round 3: after that restart ingestion answers 200 (%s)" % status)
        finally:
            client.close()
            if alive is None:
                alive = self.server.alive()
            exit_status = self.server.stop()
        self.checks.check(alive, "the server never exited during rounds 1 and 2")
        self.checks.check(exit_status == 0, "the server stops cleanly on SIGTERM (exit %s)" % exit_status)
        errors = {k: v for k, v in self.ledger.statuses.items() if not k.startswith("200")}
        five = {k: v for k, v in errors.items() if k.startswith("5") and not k.startswith(("503 unavailable", "507"))}
        self.checks.check(not five, "no 5xx but 503 unavailable (or 507) on ingestion (%s)" % (format_statuses(errors) or "no errors"))
        self.checks.check(all(self.messages.get(k) for k in self.messages), "every error carried a message")
        self.checks.check(not self.ledger.problems, "every 200 answer was consistent%s" % (
            "" if not self.ledger.problems else ": " + "; ".join(self.ledger.problems[:3])))
        server_log_check(self.checks, self.server.log_path)
        result = final_store_checks(self.checks, self.binary, self.data, self.ledger)
        restarted = self.server.start(20)
        self.checks.check(restarted, "the server restarts on the data folder afterwards")
        self.server.stop()
        return self.checks.finish([
            ("machine", "%d cores" % os.cpu_count()),
            ("binary", self.binary),
            ("tmpfs", "%s, grown to 64m in round 2" % mount_size),
        ] + self.facts + [
            ("all ingest answers", format_statuses(self.ledger.statuses)),
        ] + [("message of " + k, v) for k, v in sorted(self.messages.items())] + store_facts(result) + [
            ("wall time (s)", "%.1f" % (time.monotonic() - began)),
        ])


if __name__ == "__main__":
    sys.exit(Run(sys.argv[1], sys.argv[2], sys.argv[3]).main(sys.argv[4]))
