# SPDX-License-Identifier: Apache-2.0
#
# The crash loop behind crash-loop.sh: a history checker for kill -9. See crash-loop.sh for the usage.

import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (server_log_check, Checks, Client, Ledger, Server, final_store_checks, format_statuses, items_body, log)  # noqa: E402

THREADS = int(os.environ.get("FAULTS_THREADS", "4"))
KILL_MIN_MS = int(os.environ.get("FAULTS_KILL_MIN_MS", "50"))
KILL_MAX_MS = int(os.environ.get("FAULTS_KILL_MAX_MS", "1500"))
RESEND = 300           # previously acknowledged events resent after each restart
READY_TIMEOUT = 20.0   # a restart must print its ready line within this
# Start-up replays the event log, so the ready time grows with it; a new data folder is begun once this
# many events were sent to one, which keeps 200 cycles within minutes (each folder is checked in full).
MAX_EVENTS = int(os.environ.get("FAULTS_MAX_EVENTS", "500000"))
STARTUP_KILL_SHARE = float(os.environ.get("FAULTS_STARTUP_KILLS", "0.1"))
TORN_AUDIT_SHARE = float(os.environ.get("FAULTS_TORN_AUDIT", "0.05"))


class Cycle:
    def __init__(self, server, ledger, rng, state):
        self.server = server
        self.ledger = ledger
        self.rng = rng
        self.state = state
        self.stop = threading.Event()
        self.setup_done = threading.Event()

    def setup(self, client):
        """Items (until once acknowledged) and the resend of acknowledged events."""
        try:
            if not self.state["items_stored"]:
                status, _ = client.request("PUT", "/v1/items", items_body())
                if status == 200:
                    self.state["items_stored"] = True
                else:
                    self.ledger.count_status("%d on PUT /v1/items" % status)
                    return
            with self.ledger.lock:
                pool = list(self.ledger.acknowledged)
            if pool and not self.stop.is_set():
                sample = self.rng.sample(pool, min(RESEND, len(pool)))
                status, payload = self.ledger.post_events(client, sample, expect_fresh=False)
                if status == 200:
                    self.state["resent"] += len(sample)
                    self.state["resent_duplicates"] += payload.get("duplicates", 0)
                    if payload.get("accepted", 0) != 0:
                        self.ledger.problem("resent acknowledged events were accepted again (%d of %d): they had been lost"
                                            % (payload.get("accepted"), len(sample)))
        except Exception as error:  # the kill may land here: the outcome is unknown, nothing to check
            self.ledger.count_status("no answer (%s)" % type(error).__name__)
        finally:
            self.setup_done.set()

    def ingest(self, index):
        client = Client(self.server.port)
        rng = random.Random(self.rng.random())
        if index == 0:
            self.setup(client)
        else:
            self.setup_done.wait()
        if not self.state["items_stored"]:
            return
        while not self.stop.is_set():
            ids = self.ledger.new_ids(rng.randint(100, 500))
            status, _ = self.ledger.post_events(client, ids)
            if status is None and not self.stop.is_set():
                time.sleep(0.01)  # the server is going away; the kill is imminent
        client.close()

    def reader(self):
        """Feeds and, every few, an export (an audited, fsynced append to audit.jsonl)."""
        client = Client(self.server.port)
        rng = random.Random(self.rng.random())
        self.setup_done.wait()
        n = 0
        while not self.stop.is_set():
            n += 1
            user = "u%d" % rng.randrange(2000)
            path = "/v1/users/%s/export" % user if n % 5 == 0 else "/v1/users/%s/feed?count=10" % user
            kind = "export" if "export" in path else "feed"
            with self.ledger.lock:
                # Known before the request is sent: an export of a user none of whose events was
                # acknowledged yet may rightly answer 404 (nothing is held about them).
                held = user in self.ledger.users
            try:
                status, _ = client.request("GET", path)
                self.state["reads"][kind] = self.state["reads"].get(kind, 0) + 1
                if kind == "export" and status == 404 and not held:
                    self.state["reads"]["export of a user with nothing acknowledged yet (404)"] = \
                        self.state["reads"].get("export of a user with nothing acknowledged yet (404)", 0) + 1
                elif status != 200:
                    self.ledger.problem("GET %s answered %d" % (path, status))
            except Exception:
                if not self.stop.is_set():
                    time.sleep(0.01)
            time.sleep(0.02)
        client.close()


def torn_audit_tail(data):
    """True when audit.jsonl ends in a line without its newline (a SIGKILL mid-append)."""
    try:
        with open(os.path.join(data, "audit.jsonl"), "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except FileNotFoundError:
        return False


def run_folder(binary, folder, cycles, rng, checks, totals, label):
    """Runs up to `cycles` kill cycles on one data folder (fewer when its log reaches MAX_EVENTS events),
    then the last restart, a clean stop and the store checks. Returns the number of cycles run."""
    data = os.path.join(folder, "data")
    server = Server(binary, data, os.path.join(folder, "server.log"))
    ledger = Ledger()
    state = {"items_stored": False, "resent": 0, "resent_duplicates": 0, "reads": {}}
    crashed, ready_times, done = [], [], 0
    restart_ok = True
    for cycle in range(1, cycles + 1):
        # Now and then a kill during start-up (WAL recovery, the torn-audit cut, the engine.opened append).
        if cycle > 1 and rng.random() < STARTUP_KILL_SHARE:
            server.spawn()
            time.sleep(rng.uniform(0.0, 0.4))
            server.kill()
            totals["startup_kills"] += 1
        if torn_audit_tail(data):
            totals["torn_audit"] += 1
        elif cycle > 1 and rng.random() < TORN_AUDIT_SHARE:
            # A SIGKILL cannot cut a write(2) to a file in half, so a power-loss torn line is simulated:
            # the start of an entry without its newline. The store must cut it when it opens.
            with open(os.path.join(data, "audit.jsonl"), "ab") as handle:
                handle.write(b'{"entry":{"actor":"system","at":"2026-')
            totals["torn_injected"] += 1
        if not server.start(READY_TIMEOUT):
            restart_ok = False
            checks.check(False, "%s cycle %d: the server printed no ready line within %.0f s (exit %s):\n%s"
                         % (label, cycle, READY_TIMEOUT, server.process.poll(), server.log_tail()))
            server.kill()
            break
        ready_times.append((server.ready_seconds, len(ledger.sent)))
        if cycle > 1:
            totals["restarts"] += 1
        run = Cycle(server, ledger, rng, state)
        threads = [threading.Thread(target=run.ingest, args=(i,)) for i in range(THREADS)]
        threads.append(threading.Thread(target=run.reader))
        for thread in threads:
            thread.start()
        delay = rng.uniform(KILL_MIN_MS, KILL_MAX_MS) / 1000.0
        time.sleep(delay)
        if not server.alive():
            crashed.append((cycle, server.process.returncode, server.log_tail()))
        run.stop.set()
        server.kill()
        totals["kills"] += 1
        done += 1
        for thread in threads:
            thread.join()
        totals["cycles_done"] += 1
        if totals["cycles_done"] % 10 == 0 or cycle == 1:
            log("%s cycle %d (total %d): killed %4.0f ms after ready; acknowledged %d, unknown %d; this start was ready in %.2f s"
                % (label, cycle, totals["cycles_done"], delay * 1000, len(ledger.acknowledged), len(ledger.unknown),
                   server.ready_seconds))
        if len(ledger.sent) >= MAX_EVENTS:
            break

    # The restart after the last kill, a resend, a fresh batch, then a clean stop.
    if restart_ok:
        if torn_audit_tail(data):
            totals["torn_audit"] += 1
        if server.start(READY_TIMEOUT):
            totals["restarts"] += 1
            ready_times.append((server.ready_seconds, len(ledger.sent)))
            run = Cycle(server, ledger, rng, state)
            run.setup(Client(server.port))
            status, _ = ledger.post_events(Client(server.port), ledger.new_ids(200))
            checks.check(status == 200, "%s: after the last restart a fresh batch is acknowledged (status %s)" % (label, status))
            final_exit = server.stop()
            checks.check(final_exit == 0, "%s: the server stops cleanly on SIGTERM (exit %s)" % (label, final_exit))
        else:
            restart_ok = False
            checks.check(False, "%s: final restart: no ready line within %.0f s:\n%s" % (label, READY_TIMEOUT, server.log_tail()))
            server.kill()

    checks.check(restart_ok, "%s: every restart printed its ready line within %.0f s" % (label, READY_TIMEOUT))
    checks.check(not crashed, "%s: the server never exited on its own before its SIGKILL%s" % (
        label, "" if not crashed else ": " + "; ".join("cycle %d exit %s: %s" % c for c in crashed[:3])))
    checks.check(not ledger.problems, "%s: every answer was consistent (fresh ids accepted, resent acknowledged ids "
                 "duplicates, reads 200 or an export 404 for a user with nothing acknowledged yet)%s" % (label, "" if not ledger.problems else ": " + "; ".join(ledger.problems[:5])))
    checks.check(state["resent"] == state["resent_duplicates"], "%s: resent acknowledged events came back as duplicates: %d of %d"
                 % (label, state["resent_duplicates"], state["resent"]))
    bad = {k: v for k, v in ledger.statuses.items() if not k.startswith(("200", "no answer"))}
    checks.check(not bad, "%s: no error status while the server was up (%s)" % (label, format_statuses(bad) or "none"))
    if os.environ.get("FAULTS_SELF_TEST") == "lose-one" and ledger.acknowledged:
        # Checks the checker: drops one acknowledged event and adds one never sent; the run must FAIL.
        import sqlite3
        connection = sqlite3.connect(os.path.join(data, "foryou.sqlite"))
        with connection:
            connection.execute("DELETE FROM events WHERE id = ?", (min(ledger.acknowledged),))
            connection.execute("UPDATE events SET id = 'never-sent' WHERE id = (SELECT max(id) FROM events)")
        connection.close()
        with open(os.path.join(data, "audit.jsonl"), "ab") as handle:
            handle.write(b'{"entry":{"actor":"system"}}\n')
    server_log_check(checks, server.log_path, label)
    facts = dict(final_store_checks(checks, binary, data, ledger, label=label))
    with open(os.path.join(folder, "acknowledged.txt"), "w") as handle:
        handle.write("\n".join(sorted(ledger.acknowledged)) + "\n")
    with open(os.path.join(folder, "unknown.txt"), "w") as handle:
        handle.write("\n".join(sorted(ledger.unknown)) + "\n")

    totals["sent"] += len(ledger.sent)
    totals["acknowledged"] += len(ledger.acknowledged)
    totals["lost"] += facts["lost"]
    totals["unknown"] += len(ledger.unknown)
    totals["unknown_stored"] += facts["unknown_stored"]
    totals["stored"] += facts["stored"]
    totals["twice"] += facts["twice"]
    totals["resent"] += state["resent"]
    totals["resent_duplicates"] += state["resent_duplicates"]
    for key, value in ledger.statuses.items():
        totals["statuses"][key] = totals["statuses"].get(key, 0) + value
    for key, value in state["reads"].items():
        totals["reads"][key] = totals["reads"].get(key, 0) + value
    totals["ready"] += [t for t, _ in ready_times]
    if ready_times:
        totals["ready_last"].append(ready_times[-1])
    totals["audit"].append(facts["audit"])
    return done


def main():
    binary, work = sys.argv[1], sys.argv[2]
    cycles = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    seed = int(os.environ.get("FAULTS_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    checks = Checks("crash-loop")
    totals = {"restarts": 0, "kills": 0, "startup_kills": 0, "cycles_done": 0, "sent": 0, "acknowledged": 0, "lost": 0,
              "unknown": 0, "unknown_stored": 0, "stored": 0, "twice": 0, "resent": 0, "resent_duplicates": 0,
              "torn_audit": 0, "torn_injected": 0, "statuses": {}, "reads": {}, "ready": [], "ready_last": [], "audit": []}
    began = time.monotonic()
    log("crash loop: %d cycles, %d ingest threads + 1 reader, SIGKILL %d-%d ms after ready, a new data folder every "
        "%d events, seed %d, work folder %s" % (cycles, THREADS, KILL_MIN_MS, KILL_MAX_MS, MAX_EVENTS, seed, work))
    folders = 0
    while totals["cycles_done"] < cycles:
        folders += 1
        label = "folder %d" % folders
        folder = os.path.join(work, "run%d" % folders)
        os.makedirs(folder, exist_ok=True)
        if run_folder(binary, folder, cycles - totals["cycles_done"], rng, checks, totals, label) == 0:
            break
    wall = time.monotonic() - began
    ready = sorted(totals["ready"])
    facts = [
        ("machine", "%d cores" % os.cpu_count()),
        ("binary", binary),
        ("seed", seed),
        ("cycles (SIGKILL each)", "%d of %d, in %d data folder(s)" % (totals["kills"], cycles, folders)),
        ("extra kills during start-up", totals["startup_kills"]),
        ("restarts after a SIGKILL", totals["restarts"]),
        ("torn audit.jsonl tails", "%d left by a SIGKILL, %d simulated (a power-loss fragment); the store cuts them"
         % (totals["torn_audit"], totals["torn_injected"])),
        ("requests by outcome", format_statuses(totals["statuses"])),
        ("reads while ingesting", ", ".join("%s %d" % kv for kv in sorted(totals["reads"].items()))),
        ("events sent", totals["sent"]),
        ("events acknowledged (200)", totals["acknowledged"]),
        ("acknowledged but lost", totals["lost"]),
        ("stored twice", totals["twice"]),
        ("unknown outcome (no answer)", "%d, of which stored: %d" % (totals["unknown"], totals["unknown_stored"])),
        ("resent acknowledged -> duplicates", "%d -> %d" % (totals["resent"], totals["resent_duplicates"])),
        ("start to ready (s) min/median/max", "%.2f / %.2f / %.2f" % (ready[0], statistics.median(ready), ready[-1]) if ready else "-"),
        ("last start per folder", "; ".join("%.2f s at %d events sent" % r for r in totals["ready_last"])),
        ("audit verify", "; ".join(totals["audit"])),
        ("wall time (s)", "%.1f" % wall),
    ]
    return checks.finish(facts)


if __name__ == "__main__":
    sys.exit(main())
