# SPDX-License-Identifier: Apache-2.0
#
# The closed-loop simulator behind run.sh (python3 standard library only). See run.sh for the usage.
#
# Simulated users with hidden, drifting interests ask a real `foryou serve` for their feed, watch it
# and send what they did through the public API; what they are shown next depends on what they did.
# Three arms, each on a fresh server and data folder, with the same world, the same users and the same
# schedule of sessions:
#   online      events are posted as they happen (one batch per feed page of 10), and the model is
#               trained (POST /v1/models/train) at every simulated hour;
#   hourly      the same engine and models, but the simulator holds the events back and posts them only
#               at each simulated hour boundary, then trains: between hours the server knows nothing of
#               what users just did (a batch system refitting hourly); feeds are still recorded as
#               served, so pages never repeat;
#   popularity  the non-profiled feed (`personalized=false`: one global order, trending then popular then
#               newest), events posted as they happen, no training. That feed does not skip what a user
#               watched, so at each session start the simulator reads it from the top, 100 at a time, and
#               shows the first items the user has not watched: the most popular unseen items.
#
# The world (--seed): topics with Zipf popularity (s = 0.8); creators with a main and a second topic
# drawn by that popularity, a quality offset and Zipf output; items of 10-60 s, 70% with the creator's
# main topic only and 30% with both, a hidden quality (Beta(2,2) plus the creator's offset), all
# published in the 3 days before the simulation starts. A user has a hidden weight per topic: 0.85
# spread over 2-3 favourite topics (drawn by topic popularity, shares Dirichlet(2)) and 0.15 over all
# topics (Dirichlet(1)); a hidden taste per creator (normal, sd 0.1); and after each session, with
# probability --drift, one of their top-3 topics swaps its weight with another topic (interests drift).
#
# Watching: appeal = 0.65 * interest + 0.35 * quality + creator taste + noise (sd 0.08), where interest
# is the user's weight of the item's best topic relative to their top topic (0...1). The watched
# fraction is 1.5 * sigmoid(10 * (appeal - 0.45)) times a log-normal factor (sd 0.2): a favourite is
# watched to the end and often replayed, a topic the user does not care about is swiped away within a
# few seconds, a very good item outside their topics is watched partly. Each item gives a `view` with
# watch_ms; a `like` with probability 0.35 * clamp((appeal - 0.55) / 0.35, 0, 1); a `follow` of the
# creator at most once, with probability 0.02 when appeal > 0.75; under 20% watched (a swipe-away) a
# `skip` with probability 0.2, and under 8% a `not_interested` with probability 0.02. A session ends
# after its planned length (20-30 items) or when the user swiped away 3 items in a row (bored). Noise
# and event draws come from a hash of (seed, user, item), so the same user shown the same item reacts
# the same way in every arm (common random numbers).
#
# Time: in each simulated hour every existing user plays a session with probability --active (new
# users: --new-active, and always in the hour they join) and then comes back for another session in
# the same hour with probability --again (at most 3 an hour); the sessions of all users interleave.
# Events carry simulated timestamps: the simulated clock starts (warm-up + measured hours + 1) hours
# before the real clock, so every timestamp is in the past and trending decay and co-visitation gaps
# see hours pass.
#
# Measured: sessions of the existing users in the measured hours (after --warmup hours): watch time
# per session, items per session, like rate, share of items in the user's current top-2 topics, share
# of sessions left bored. New users join during the first --join-hours measured hours with no history;
# for each, the swipes until at least 6 of their last 10 items are in their current top-2 hidden
# topics for the first time (capped at --match-cap; a user who never gets there within the cap or the
# sessions they play counts as never matched, and as worse than any match in the median). Every HTTP
# answer is checked: any unexpected status, rejected event or repeated item aborts the run.

import argparse
import hashlib
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timezone

READY = re.compile(r"foryou ready: listening on http://([0-9.]+):([0-9]+)")
HOUR_MS = 3_600_000
CURVE_BUCKETS = [0, 10, 20, 30, 50, 100]   # new users' swipes 1-10, 11-20, 21-30, 31-50, 51-100, 101+


def log(message):
    print(time.strftime("%H:%M:%S ") + message, file=sys.stderr, flush=True)


def rfc3339(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def unit(*keys):
    """A uniform number in [0, 1) from a hash of the keys: the same keys give the same draw in every arm."""
    digest = hashlib.blake2b("|".join(map(str, keys)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64


def normal(*keys):
    """A standard normal number from a hash of the keys (Box-Muller)."""
    u1 = max(unit("n1", *keys), 1e-12)
    u2 = unit("n2", *keys)
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


class Fatal(Exception):
    pass


# ---------------------------------------------------------------------------------------------- server

class Server:
    """One `foryou serve` on a fresh data folder, on a free port."""

    def __init__(self, binary, folder):
        self.binary = binary
        self.folder = folder
        self.data = os.path.join(folder, "data")
        self.log_path = os.path.join(folder, "server.log")
        self.process = None
        self.port = None

    def start(self, timeout=30.0):
        help_text = subprocess.run([self.binary, "serve", "--help"], capture_output=True, text=True).stdout
        args = [self.binary, "serve", "--data", self.data, "--port", "0"]
        if "--rate-limit" in help_text:
            args += ["--rate-limit", "0"]
        if "--train-every" in help_text:
            args += ["--train-every", "0"]  # only the simulator trains
        log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL)
        log_file.close()
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            with open(self.log_path, "rb") as handle:
                match = READY.search(handle.read().decode("utf-8", "replace"))
            if match:
                self.port = int(match.group(2))
                break
            if self.process.poll() is not None:
                raise Fatal("foryou serve exited with %s before it was ready:\n%s" % (self.process.returncode, self.log_tail()))
            time.sleep(0.02)
        else:
            self.stop()
            raise Fatal("foryou serve printed no ready line within %.0f s:\n%s" % (timeout, self.log_tail()))
        client = Client(self.port)
        while time.monotonic() - began < timeout:
            try:
                status, body = client.request("GET", "/healthz")
                if status == 200 and isinstance(body, dict) and body.get("status") == "ok":
                    client.close()
                    return
            except (OSError, http.client.HTTPException):
                client.close()
            time.sleep(0.05)
        self.stop()
        raise Fatal("GET /healthz did not answer ok within %.0f s" % timeout)

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as handle:
                return "\n".join(handle.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout=60.0):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import faultlib  # noqa: E402  (the fault scripts' keep-alive HTTP client)


class Client(faultlib.Client):
    """faultlib's keep-alive HTTP/1.1 client, counting requests; call() aborts loudly on anything but
    the expected status."""

    def __init__(self, port, timeout=300.0):
        super().__init__(port, timeout)
        self.requests = 0

    def request(self, method, path, body=None):
        answer = super().request(method, path, body)
        self.requests += 1
        return answer

    def call(self, method, path, body=None, expect=200):
        try:
            status, payload = self.request(method, path, body)
        except (OSError, http.client.HTTPException) as error:
            raise Fatal("%s %s: no answer (%s: %s)" % (method, path, type(error).__name__, error))
        if status != expect:
            raise Fatal("%s %s answered %d (expected %d): %s" % (method, path, status, expect, str(payload)[:600]))
        return payload


# ----------------------------------------------------------------------------------------------- world

def zipf(count, exponent):
    return [1 / (k + 1) ** exponent for k in range(count)]


def dirichlet(rng, alphas):
    draws = [rng.gammavariate(a, 1) for a in alphas]
    total = sum(draws) or 1
    return [d / total for d in draws]


class World:
    """Topics, creators, items and the hidden truth about users; all from --seed."""

    def __init__(self, args, start_ms):
        rng = random.Random("world-%d" % args.seed)
        self.seed = args.seed
        self.topics = ["topic%02d" % t for t in range(args.topics)]
        self.topic_weights = zipf(args.topics, 0.8)
        # Creators: a main and a second topic (often the same), a hidden quality offset, Zipf output.
        self.creator_topics = []
        self.creator_quality = []
        for _ in range(args.creators):
            main = rng.choices(range(args.topics), self.topic_weights)[0]
            second = rng.choices(range(args.topics), self.topic_weights)[0]
            self.creator_topics.append((main, second))
            self.creator_quality.append(rng.gauss(0, 0.1))
        creator_output = zipf(args.creators, 0.7)
        rng.shuffle(creator_output)
        self.items = []          # {id, creator index, topics (indices), duration_ms, quality, published_ms}
        for n in range(args.items):
            creator = rng.choices(range(args.creators), creator_output)[0]
            main, second = self.creator_topics[creator]
            topics = [main] if (second == main or rng.random() < 0.7) else [main, second]
            duration = rng.randint(10_000, 60_000)
            quality = min(1.0, max(0.0, rng.betavariate(2, 2) + self.creator_quality[creator]))
            published = start_ms - int(rng.random() * 3 * 24 * HOUR_MS) - 60_000
            self.items.append({"id": "it%d" % n, "creator": creator, "topics": topics, "duration_ms": duration,
                               "quality": quality, "published_ms": published})
        self.item_index = {item["id"]: n for n, item in enumerate(self.items)}

    def items_payloads(self, batch=1000):
        for first in range(0, len(self.items), batch):
            yield {"items": [{"id": item["id"], "creator": "cr%d" % item["creator"],
                              "tags": [self.topics[t] for t in item["topics"]], "duration_ms": item["duration_ms"],
                              "language": "en", "published_at": rfc3339(item["published_ms"])}
                             for item in self.items[first:first + batch]]}


class HiddenUser:
    """A user's hidden interests (a weight per topic), creator taste and drift; the same in every arm."""

    def __init__(self, world, name, seed):
        self.name = name
        self.world = world
        rng = random.Random("user-%d-%s" % (seed, name))
        self.drift_rng = random.Random("drift-%d-%s" % (seed, name))
        count = len(world.topics)
        favourites = []
        while len(favourites) < (2 if rng.random() < 0.5 else 3):
            t = rng.choices(range(count), world.topic_weights)[0]
            if t not in favourites:
                favourites.append(t)
        shares = dirichlet(rng, [2.0] * len(favourites))
        background = dirichlet(rng, [1.0] * count)
        self.weights = [0.15 * background[t] for t in range(count)]
        for t, share in zip(favourites, shares):
            self.weights[t] += 0.85 * share
        self.sessions = 0
        self.drifts = 0

    def top(self, k):
        return sorted(range(len(self.weights)), key=lambda t: (-self.weights[t], t))[:k]

    def interest(self, item):
        best = max(self.weights)
        return max(self.weights[t] for t in item["topics"]) / best

    def drift(self, probability):
        """After a session: with the given probability one of the top-3 topics swaps weight with another."""
        self.sessions += 1
        if self.drift_rng.random() >= probability:
            return
        top3 = self.top(3)
        leaving = self.drift_rng.choice(top3)
        others = [t for t in range(len(self.weights)) if t != leaving]
        arriving = self.drift_rng.choices(others, [self.world.topic_weights[t] for t in others])[0]
        self.weights[leaving], self.weights[arriving] = self.weights[arriving], self.weights[leaving]
        self.drifts += 1


# ------------------------------------------------------------------------------------------- one arm

class Arm:
    def __init__(self, name, args, world, users, new_users, schedule, binary, workdir, start_ms):
        self.name = name
        self.args = args
        self.world = world
        self.users = users            # name -> HiddenUser (fresh copies for this arm)
        self.new_users = new_users    # names of the users who join during the measurement
        self.schedule = schedule
        self.binary = binary
        self.folder = os.path.join(workdir, name)
        self.start_ms = start_ms
        self.buffer = []              # hourly: events held back until the hour ends
        self.event_counter = 0
        self.last_at = {}             # user -> simulated time of their latest event
        self.viewed = {u: set() for u in users}          # items each user watched (client side)
        self.offset = {u: 0 for u in users}              # popularity: the session's position in the global order
        self.popular_buffer = {u: [] for u in users}     # popularity: what was read of it and not yet shown
        self.followed = {u: set() for u in users}
        self.window = {u: [] for u in new_users}         # new users: hits of their last 10 items
        self.swipes = {u: 0 for u in new_users}
        self.new_position = {u: 0 for u in new_users}    # new users: items watched so far
        self.source_quality = {}                          # existing users: feed source -> [items, sum of fractions]
        self.page_curve = {}                              # existing users: page in session -> sums
        self.curve = {}                                   # new users: swipe bucket -> [hits, items]
        self.matched_at = {}
        self.stats = {"sessions": 0, "watch_ms": 0, "items": 0, "likes": 0, "hits": 0, "bored": 0,
                      "new_sessions": 0, "new_watch_ms": 0, "new_items": 0,
                      "repeats": 0, "empty_pages": 0, "sources": {}, "trainings": 0, "train_s": 0.0,
                      "events": 0, "feeds": 0, "feed_s": 0.0, "post_s": 0.0}

    def run(self):
        os.makedirs(self.folder, exist_ok=True)
        server = Server(self.binary, self.folder)
        began = time.monotonic()
        server.start()
        self.client = Client(server.port)
        try:
            for payload in self.world.items_payloads():
                answer = self.client.call("PUT", "/v1/items", payload)
                if answer.get("upserted") != len(payload["items"]):
                    raise Fatal("PUT /v1/items upserted %r of %d" % (answer.get("upserted"), len(payload["items"])))
            total_hours = self.args.warmup + self.args.hours
            for hour in range(total_hours):
                sessions = self.schedule[hour]
                hour_start = self.start_ms + hour * HOUR_MS
                spacing = (HOUR_MS * 2 // 3) // max(1, len(sessions))
                for k, (user, length) in enumerate(sessions):
                    # Sessions start spread over the first 40 minutes, a user's next one at least a minute after their last event.
                    start = max(hour_start + k * spacing, self.last_at.get(user, 0) + 60_000)
                    self.play(user, length, min(start, hour_start + HOUR_MS - 60_000), hour_start + HOUR_MS - 1000,
                              measured=hour >= self.args.warmup)
                self.end_hour(hour)
            self.client.close()
        finally:
            server.stop()
        self.stats["wall_s"] = time.monotonic() - began
        if server.process.returncode not in (0, None):
            log("%s: the server exited with %s; its log:\n%s" % (self.name, server.process.returncode, server.log_tail()))
        if not self.args.keep:
            shutil.rmtree(os.path.join(self.folder, "data"), ignore_errors=True)
        return self.stats

    def end_hour(self, hour):
        if self.name == "hourly":
            self.flush()
        if self.name in ("online", "hourly") and not self.args.no_train:
            began = time.monotonic()
            answer = self.client.call("POST", "/v1/models/train")
            self.stats["train_s"] += time.monotonic() - began
            self.stats["trainings"] += 1
            self.stats["model"] = answer.get("model_version")
        log("%s: hour %d/%d done (%d sessions so far, %d events, %d feeds)" % (
            self.name, hour + 1, self.args.warmup + self.args.hours,
            self.stats["sessions"] + self.stats["new_sessions"] + self.stats.get("warmup_sessions", 0),
            self.stats["events"], self.stats["feeds"]))

    def post(self, events):
        for first in range(0, len(events), 1000):
            batch = events[first:first + 1000]
            began = time.monotonic()
            answer = self.client.call("POST", "/v1/events", {"events": batch})
            self.stats["post_s"] += time.monotonic() - began
            if answer.get("rejected") or answer.get("accepted") != len(batch):
                raise Fatal("POST /v1/events: accepted %r of %d, rejected %s" % (
                    answer.get("accepted"), len(batch), json.dumps(answer.get("rejected"))[:600]))
            self.stats["events"] += len(batch)

    def flush(self):
        if self.buffer:
            self.post(self.buffer)
            self.buffer = []

    def send(self, events):
        if not events:
            return
        if self.name == "hourly":
            self.buffer.extend(events)
        else:
            self.post(events)

    def event(self, user, item, kind, at, watch=None):
        self.event_counter += 1
        event = {"id": "%s-%d" % (self.name, self.event_counter), "user": user, "item": item, "type": kind, "at": rfc3339(at)}
        if watch is not None:
            event["watch_ms"] = watch
        return event

    def page(self, user):
        """The next page of up to 10 items the user has not watched: [(item id, source)]."""
        if self.name == "popularity":
            return self.popular_page(user)
        path = "/v1/users/%s/feed?count=10" % urllib.parse.quote(user, safe="")
        return [(entry["item"], entry.get("source", "?")) for entry in self.fetch(path)]

    def popular_page(self, user):
        """The non-profiled feed is one global order that does not skip what the user watched (only their
        explicit exclusions): read it 100 at a time from the top at each session start and keep the first
        10 items the user has not watched, i.e. the most popular items they have not seen yet."""
        page = []
        while len(page) < 10:
            if not self.popular_buffer[user]:
                if self.offset[user] > 10_000 - 100:
                    break
                path = "/v1/users/%s/feed?count=100&personalized=false&offset=%d" % (
                    urllib.parse.quote(user, safe=""), self.offset[user])
                entries = self.fetch(path)
                if not entries:
                    break
                self.offset[user] += len(entries)
                self.popular_buffer[user] = [(entry["item"], entry.get("source", "?")) for entry in entries]
            item, source = self.popular_buffer[user].pop(0)
            if item in self.viewed[user]:
                self.stats["repeats"] += 1
                continue
            page.append((item, source))
        return page

    def fetch(self, path):
        began = time.monotonic()
        answer = self.client.call("GET", path)
        self.stats["feed_s"] += time.monotonic() - began
        self.stats["feeds"] += 1
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise Fatal("GET %s: no items in %s" % (path, str(answer)[:300]))
        return items

    def play(self, name, length, at, latest, measured):
        """One session: pages of 10 until `length` items were watched or the user got bored."""
        user = self.users[name]
        world = self.world
        args = self.args
        is_new = name in self.window
        watched = 0
        watch_ms = 0
        likes = 0
        hits = 0
        swiped_in_a_row = 0
        bored = False
        self.offset[name] = 0
        self.popular_buffer[name] = []
        while watched < length and not bored:
            entries = self.page(name)
            if not entries:
                self.stats["empty_pages"] += 1
                break
            events = []
            for item_id, source in entries:
                if watched >= length or bored:
                    break
                if item_id in self.viewed[name]:
                    raise Fatal("%s was shown %s again, which it had watched" % (name, item_id))
                self.viewed[name].add(item_id)
                item = world.items[world.item_index[item_id]]
                interest = user.interest(item)
                taste = 0.1 * normal("creator", world.seed, name, item["creator"])
                appeal = 0.65 * interest + 0.35 * item["quality"] + taste + 0.08 * normal("appeal", world.seed, name, item_id)
                fraction = 1.5 * sigmoid(10 * (appeal - 0.45)) * math.exp(0.2 * normal("watch", world.seed, name, item_id))
                watch = int(item["duration_ms"] * fraction)
                at = min(at + max(1000, watch) + 500, latest)
                events.append(self.event(name, item_id, "view", at, watch))
                watched += 1
                watch_ms += watch
                hit = any(t in user.top(2) for t in item["topics"])
                hits += hit
                if measured and not is_new:
                    self.stats["sources"][source] = self.stats["sources"].get(source, 0) + 1
                    cell = self.source_quality.setdefault(source, [0, 0.0])
                    cell[0] += 1
                    cell[1] += min(fraction, 1.5)
                    cell = self.page_curve.setdefault(min(watched - 1, 29) // 10, [0, 0.0, 0.0, 0, {}])
                    cell[0] += 1
                    cell[1] += min(fraction, 1.5)
                    cell[2] += appeal
                    cell[3] += hit
                    cell[4][source] = cell[4].get(source, 0) + 1
                if unit("like", world.seed, name, item_id) < 0.35 * min(1, max(0, (appeal - 0.55) / 0.35)):
                    events.append(self.event(name, item_id, "like", at + 200))
                    likes += 1
                creator = item["creator"]
                if appeal > 0.75 and creator not in self.followed[name] and unit("follow", world.seed, name, item_id) < 0.02:
                    self.followed[name].add(creator)
                    events.append(self.event(name, item_id, "follow", at + 300))
                if fraction < 0.2:
                    swiped_in_a_row += 1
                    if unit("skip", world.seed, name, item_id) < 0.2:
                        events.append(self.event(name, item_id, "skip", at + 100))
                    if fraction < 0.08 and unit("not_interested", world.seed, name, item_id) < 0.02:
                        events.append(self.event(name, item_id, "not_interested", at + 150))
                    if swiped_in_a_row >= 3:
                        bored = True
                else:
                    swiped_in_a_row = 0
                if is_new:
                    position = self.new_position[name]
                    self.new_position[name] += 1
                    bucket = CURVE_BUCKETS[min(len(CURVE_BUCKETS) - 1, sum(1 for b in CURVE_BUCKETS if position >= b) - 1)]
                    cell = self.curve.setdefault(bucket, [0, 0, {}])
                    cell[0] += hit
                    cell[1] += 1
                    cell[2][source] = cell[2].get(source, 0) + 1
                if is_new and name not in self.matched_at and self.swipes[name] < args.match_cap:
                    self.swipes[name] += 1
                    window = self.window[name]
                    window.append(hit)
                    del window[:-10]
                    if sum(window) >= 6:
                        self.matched_at[name] = self.swipes[name]
            self.send(events)
        self.last_at[name] = at
        user.drift(args.drift)
        if is_new:
            self.stats["new_sessions"] += 1
            self.stats["new_watch_ms"] += watch_ms
            self.stats["new_items"] += watched
        elif measured:
            self.stats["sessions"] += 1
            self.stats["watch_ms"] += watch_ms
            self.stats["items"] += watched
            self.stats["likes"] += likes
            self.stats["hits"] += hits
            self.stats["bored"] += bored
        else:
            self.stats["warmup_sessions"] = self.stats.get("warmup_sessions", 0) + 1

    def summary(self):
        s = self.stats
        matched = [self.matched_at[u] for u in self.new_users if u in self.matched_at]
        never = len(self.new_users) - len(matched)
        # The median over all new users, a never-matched user counting as worse than any match.
        ordered = sorted(matched) + [math.inf] * never
        median = statistics.median(ordered) if ordered else math.nan
        sources = s["sources"]
        total_sources = sum(sources.values()) or 1
        return {
            "arm": self.name,
            "sessions": s["sessions"],
            "watch_s_per_session": s["watch_ms"] / 1000 / max(1, s["sessions"]),
            "items_per_session": s["items"] / max(1, s["sessions"]),
            "like_rate": s["likes"] / max(1, s["items"]),
            "top2_share": s["hits"] / max(1, s["items"]),
            "bored_share": s["bored"] / max(1, s["sessions"]),
            "new_users": len(self.new_users),
            "new_sessions": s["new_sessions"],
            "new_watch_s_per_session": s["new_watch_ms"] / 1000 / max(1, s["new_sessions"]),
            "match_median": median,
            "match_mean_matched": statistics.mean(matched) if matched else math.nan,
            "never_matched": never,
            "never_matched_short": sum(1 for u in self.new_users if u not in self.matched_at and self.swipes[u] < self.args.match_cap),
            "learned_share": sources.get("learned_model", 0) / total_sources,
            "sources": {k: round(v / total_sources, 3) for k, v in sorted(sources.items())},
            "source_fraction": {k: round(v[1] / v[0], 3) for k, v in sorted(self.source_quality.items())},
            "new_curve": {"%d+" % (b + 1): round(self.curve[b][0] / self.curve[b][1], 3) for b in sorted(self.curve)},
            "new_curve_sources": {"%d+" % (b + 1): self.curve[b][2] for b in sorted(self.curve)},
            "new_users_detail": {u: {"matched_at": self.matched_at.get(u), "items": self.new_position[u],
                                     "sessions": self.users[u].sessions, "drifts": self.users[u].drifts,
                                     "top3": [(self.world.topics[t], round(self.users[u].weights[t], 3)) for t in self.users[u].top(3)]}
                                 for u in self.new_users},
            "page_curve": {p: {"items": c[0], "fraction": round(c[1] / c[0], 3), "appeal": round(c[2] / c[0], 3),
                               "top2": round(c[3] / c[0], 3), "sources": c[4]} for p, c in sorted(self.page_curve.items())},
            "repeats": s["repeats"],
            "empty_pages": s["empty_pages"],
            "events": s["events"],
            "feeds": s["feeds"],
            "trainings": s["trainings"],
            "train_s": s["train_s"],
            "feed_ms": 1000 * s["feed_s"] / max(1, s["feeds"]),
            "post_s": s["post_s"],
            "wall_s": s["wall_s"],
            "model": s.get("model", "-"),
        }


# ------------------------------------------------------------------------------------------- driver

def make_schedule(args, existing, new_users):
    """Per simulated hour: the sessions played, in order, as (user, planned length); the same in every arm.
    A user active in an hour comes back for another session in the same hour with probability --again
    (at most 3 sessions an hour); the sessions of all users are interleaved at random."""
    rng = random.Random("schedule-%d" % args.seed)
    join_hours = max(1, min(args.join_hours, args.hours))
    joins = {name: args.warmup + (k * join_hours) // max(1, len(new_users)) for k, name in enumerate(new_users)}
    schedule = []
    for hour in range(args.warmup + args.hours):
        visitors = [name for name in existing if rng.random() < args.active]
        for name in new_users:
            if joins[name] == hour or (joins[name] < hour and rng.random() < args.new_active):
                visitors.append(name)
        sessions = []
        for name in visitors:
            sessions.append(name)
            while sessions.count(name) < 3 and rng.random() < args.again:
                sessions.append(name)
        rng.shuffle(sessions)
        schedule.append([(name, rng.randint(20, 30)) for name in sessions])
    return schedule


def fmt(value, digits=1):
    if isinstance(value, float):
        if math.isinf(value):
            return "never"
        if math.isnan(value):
            return "-"
        return "%.*f" % (digits, value)
    return str(value)


def ratio(a, b):
    if b in (0, None) or any(isinstance(x, float) and (math.isnan(x) or math.isinf(x)) for x in (a, b)):
        return "-"
    return "%.2f×" % (a / b)


def report(args, results, world, existing, new_users, schedule):
    sessions = sum(len(h) for h in schedule)
    print()
    print("Closed-loop simulation (seed %d%s): %d topics, %d creators, %d items; %d existing users, %d new users; "
          "%d warm-up + %d measured simulated hours, %d sessions per arm (same-hour return %.2f); drift %.2f per session; binary %s"
          % (args.seed, ", quick" if args.quick else "", len(world.topics), len(world.creator_topics), len(world.items),
             len(existing), len(new_users), args.warmup, args.hours, sessions, args.again, args.drift, args.label or args.binary))
    print()
    print("| arm | watch / session (s) | items / session | like rate | in top-2 topics | left bored "
          "| new users: watch / session (s) | swipes to match: median | mean (matched) | never matched "
          "| learned-model share | feed mean (ms) | trainings (s) | wall (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d/%d | %s | %s | %d (%s) | %s |" % (
            r["arm"], fmt(r["watch_s_per_session"]), fmt(r["items_per_session"]), fmt(100 * r["like_rate"]) + "%",
            fmt(100 * r["top2_share"]) + "%", fmt(100 * r["bored_share"]) + "%", fmt(r["new_watch_s_per_session"]),
            fmt(r["match_median"]), fmt(r["match_mean_matched"]), r["never_matched"], r["new_users"],
            fmt(100 * r["learned_share"]) + "%", fmt(r["feed_ms"], 2), r["trainings"], fmt(r["train_s"]), fmt(r["wall_s"])))
    by = {r["arm"]: r for r in results}
    print()
    if "online" in by:
        for other in ("hourly", "popularity"):
            if other in by:
                print("online / %s: watch per session %s, new users' watch per session %s, median swipes to match %s "
                      "(below 1× is faster)" % (
                          other, ratio(by["online"]["watch_s_per_session"], by[other]["watch_s_per_session"]),
                          ratio(by["online"]["new_watch_s_per_session"], by[other]["new_watch_s_per_session"]),
                          ratio(by["online"]["match_median"], by[other]["match_median"])))
    print()
    print("Existing users' sessions in the measured hours; a new user matches when 6 of their last 10 items "
          "are in their current top-2 hidden topics (cap %d swipes; never matched: not within the cap or the run, "
          "of whom %s had fewer than %d swipes when the run ended). Feed sources of the existing users' items "
          "(mean watched fraction): %s."
          % (args.match_cap, "/".join("%s %d" % (r["arm"], r["never_matched_short"]) for r in results), args.match_cap,
             "; ".join("%s %s" % (r["arm"], ", ".join("%s %.0f%% (%.2f)" % (k, 100 * v, r["source_fraction"][k]) for k, v in r["sources"].items()))
                       for r in results)))
    print()
    print("Existing users, by position in the session (items 1-10 / 11-20 / 21-30): mean watched fraction (capped at 1.5) "
          "and share in their top-2 topics: %s." % "; ".join(
              "%s %s" % (r["arm"], " / ".join("%.2f, %.0f%%" % (c["fraction"], 100 * c["top2"]) for c in r["page_curve"].values()))
              for r in results))
    print("New users, share of items in their top-2 topics by swipe (%s): %s." % (
        " / ".join(results[0]["new_curve"].keys()) if results else "",
        "; ".join("%s %s" % (r["arm"], " / ".join("%.0f%%" % (100 * v) for v in r["new_curve"].values())) for r in results)))
    print("Items of the non-profiled order skipped by the client as already watched: %s; sessions ended by an empty feed: %s."
          % (", ".join("%s %d" % (r["arm"], r["repeats"]) for r in results),
             ", ".join("%s %d" % (r["arm"], r["empty_pages"]) for r in results)))


def main():
    parser = argparse.ArgumentParser(description="Closed-loop simulator: online learning vs hourly refits vs popularity.")
    parser.add_argument("--bin", dest="binary", required=True, help="the foryou binary")
    parser.add_argument("--label", default=None, help="how the report names the binary (default: its path)")
    parser.add_argument("--workdir", default=None, help="where each arm's data folder and server log go (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="a smaller world and fewer hours (about a minute)")
    parser.add_argument("--arms", default="online,hourly,popularity")
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--creators", type=int, default=300)
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--users", type=int, default=400, help="existing users (they play the warm-up)")
    parser.add_argument("--new-users", type=int, default=150, help="users with no history who join during the measurement")
    parser.add_argument("--warmup", type=int, default=6, help="simulated hours before the measurement")
    parser.add_argument("--hours", type=int, default=18, help="measured simulated hours")
    parser.add_argument("--join-hours", type=int, default=6, help="new users join over the first this many measured hours")
    parser.add_argument("--active", type=float, default=0.35, help="probability that an existing user plays a session in an hour")
    parser.add_argument("--again", type=float, default=0.3,
                        help="probability that a user comes back for another session in the same hour (at most 3)")
    parser.add_argument("--new-active", type=float, default=0.6, help="the same for new users after the hour they join")
    parser.add_argument("--drift", type=float, default=0.1, help="probability that a user's interests drift after a session")
    parser.add_argument("--match-cap", type=int, default=200)
    parser.add_argument("--no-train", action="store_true",
                        help="never train a model (a diagnostic: the online and hourly arms then differ only in when events arrive)")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the data folders")
    if parser.parse_known_args()[0].quick:
        # Smaller defaults; options given explicitly still win.
        parser.set_defaults(creators=150, items=1500, users=150, new_users=50, warmup=4, hours=8, join_hours=3)
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        raise Fatal("no executable foryou binary at %s" % args.binary)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    for arm in arms:
        if arm not in ("online", "hourly", "popularity"):
            raise Fatal("unknown arm %r (online, hourly, popularity)" % arm)
    workdir = args.workdir or tempfile.mkdtemp(prefix="foryou-sim.")
    os.makedirs(workdir, exist_ok=True)

    # The simulated clock: every event lies in the past of the real clock when it is sent.
    now_ms = int(time.time() * 1000)
    start_ms = (now_ms - (args.warmup + args.hours + 1) * HOUR_MS) // HOUR_MS * HOUR_MS
    world = World(args, start_ms)
    existing = ["u%d" % n for n in range(args.users)]
    new_users = ["n%d" % n for n in range(args.new_users)]
    schedule = make_schedule(args, existing, new_users)
    log("world: %d items, %d existing + %d new users, %d sessions per arm; work folder %s" % (
        len(world.items), len(existing), len(new_users), sum(len(h) for h in schedule), workdir))
    results = []
    for arm_name in arms:
        users = {name: HiddenUser(world, name, args.seed) for name in existing + new_users}
        arm = Arm(arm_name, args, world, users, new_users, schedule, args.binary, workdir, start_ms)
        log("%s: starting a fresh server" % arm_name)
        arm.run()
        results.append(arm.summary())
        log("%s: done in %.0f s" % (arm_name, results[-1]["wall_s"]))
    report(args, results, world, existing, new_users, schedule)
    if args.json:
        with open(args.json, "w") as handle:
            clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in results]
            json.dump({"config": {k: v for k, v in vars(args).items() if k != "json"}, "results": clean}, handle, indent=1)
    if not args.workdir and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Fatal as error:
        print("FAIL: %s" % error, file=sys.stderr)
        sys.exit(1)
