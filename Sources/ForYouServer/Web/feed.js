// SPDX-License-Identifier: Apache-2.0
// The feed page: one card at a time. Time on a card is the watch time (there is no video): leaving a card
// sends a `view` with the real watch_ms, scaled by the playback speed. Buttons send like, share, follow and
// not_interested. The side panel shows the profile the engine learned, from /v1/users/{user}/profile.
"use strict";

const params = new URLSearchParams(location.search);
const state = {
  user: params.get("user") || sessionStorage.getItem("foryou-viewer") || "web-" + Math.random().toString(36).slice(2, 10),
  speed: Math.min(Math.max(Number(params.get("speed")) || 1, 0.25), 1000),
  queue: [],
  current: null,
  started: 0,
  liked: false,
  sequence: 0,
  watched: 0,
  fetching: null,
  personalized: true,
  offset: 0,
};
sessionStorage.setItem("foryou-viewer", state.user);

const $ = (id) => document.getElementById(id);
const status = (text) => { $("status").textContent = text; };

function eventID() {
  state.sequence += 1;
  return `web-${state.user}-${Date.now().toString(36)}-${state.sequence}`;
}

async function send(events) {
  try {
    const answer = await ForYou.call("POST", "/v1/events", { events });
    if (answer.rejected && answer.rejected.length) status(`refused: ${answer.rejected[0].message}`);
    refreshProfile();
  } catch (error) {
    handle(error);
  }
}

function handle(error) {
  status(error.message);
  if (error.status === 401 || error.status === 403) $("key-form").hidden = false;
}

async function fetchMore() {
  if (!state.fetching) {
    const query = state.personalized ? "count=5" : `count=5&personalized=false&offset=${state.offset}`;
    state.fetching = ForYou.call("GET", `/v1/users/${encodeURIComponent(state.user)}/feed?${query}`)
      .then((feed) => {
        if (!state.personalized) state.offset += feed.items.length;
        state.queue.push(...feed.items.map((item) => ({ ...item, modelVersion: feed.model_version })));
        document.body.dataset.modelVersion = feed.model_version;
      })
      .catch(handle)
      .finally(() => { state.fetching = null; });
  }
  return state.fetching;
}

function watchedMs() {
  if (!state.current) return 0;
  const elapsed = (performance.now() - state.started) * state.speed;
  return Math.round(Math.min(elapsed, state.current.duration_ms || 0));
}

async function next() {
  if (state.current) {
    const watch = watchedMs();
    const item = state.current.item;
    state.current = null;
    state.watched += 1;
    document.body.dataset.watched = String(state.watched);
    send([{ id: eventID(), user: state.user, item, type: "view", watch_ms: watch }]);
  }
  if (state.queue.length === 0) await fetchMore();
  show(state.queue.shift());
}

function show(item) {
  const card = $("card");
  card.replaceChildren();
  $("why-box").hidden = true;
  $("why").setAttribute("aria-expanded", "false");
  if (!item) {
    card.append(ForYou.element("p", { class: "loading", text: "Nothing more to show right now." }));
    return;
  }
  state.current = item;
  state.started = performance.now();
  state.liked = false;
  $("like").setAttribute("aria-pressed", "false");
  card.dataset.item = item.item;
  card.dataset.tags = (item.tags || []).join(" ");
  card.dataset.duration = String(item.duration_ms || 0);
  card.dataset.complete = "false";
  const tags = ForYou.element("ul", { class: "tags", "aria-label": "Tags" }, ...(item.tags || []).map((tag) => ForYou.element("li", { text: "#" + tag })));
  const bar = ForYou.element("div", { class: "progress", role: "progressbar", "aria-label": "Watched", "aria-valuemin": "0", "aria-valuemax": "100" },
    ForYou.element("div", { class: "fill", id: "fill" }));
  card.append(
    ForYou.element("p", { class: "source", text: item.source.replaceAll("_", " ") }),
    ForYou.element("h2", { class: "title", text: item.item }),
    ForYou.element("p", { class: "creator", text: "@" + (item.creator || "?") }),
    tags,
    ForYou.element("p", { class: "time", id: "time", text: `0:00 / ${ForYou.duration(item.duration_ms || 0)}` }),
    bar,
  );
  card.focus({ preventScroll: true });
}

function tick() {
  if (state.current) {
    const watch = watchedMs();
    const share = state.current.duration_ms ? watch / state.current.duration_ms : 1;
    const fill = $("fill");
    if (fill) fill.style.width = `${Math.min(100, share * 100)}%`;
    const bar = document.querySelector(".progress");
    if (bar) bar.setAttribute("aria-valuenow", String(Math.round(share * 100)));
    const time = $("time");
    if (time) time.textContent = `${ForYou.duration(watch)} / ${ForYou.duration(state.current.duration_ms || 0)}`;
    if (share >= 1 && $("card").dataset.complete !== "true") $("card").dataset.complete = "true";
  }
  requestAnimationFrame(tick);
}

function act(type) {
  if (!state.current) return;
  if (type === "like") {
    if (state.liked) return;
    state.liked = true;
    $("like").setAttribute("aria-pressed", "true");
  }
  const event = { id: eventID(), user: state.user, item: state.current.item, type };
  send([event]);
  status(`${type.replace("_", " ")}: ${state.current.item}`);
  if (type === "not_interested") next();
}

function why() {
  if (!state.current) return;
  const box = $("why-box");
  box.replaceChildren(
    ForYou.element("p", { text: state.current.reason }),
    ForYou.element("ul", {}, ...state.current.signals.map((s) => ForYou.element("li", { text: `${s.name.replaceAll("_", " ")}: ${s.value.toFixed(2)}` }))),
    ForYou.element("p", { class: "hint", text: `model ${state.current.modelVersion}` }),
  );
  box.hidden = !box.hidden;
  $("why").setAttribute("aria-expanded", String(!box.hidden));
}

function bars(list, entries) {
  const maximum = Math.max(...entries.map((e) => Math.abs(e.weight)), 1e-9);
  list.replaceChildren(...entries.slice(0, 6).map((entry) => {
    const width = Math.max(2, Math.round((Math.abs(entry.weight) / maximum) * 100));
    return ForYou.element("li", { "data-name": entry.name },
      ForYou.element("span", { class: "name", text: entry.name }),
      ForYou.element("span", { class: entry.weight < 0 ? "bar negative" : "bar", style: `width:${width}%`, "aria-label": `weight ${entry.weight.toFixed(2)}` }));
  }));
  if (entries.length === 0) list.replaceChildren(ForYou.element("li", { class: "hint", text: "nothing learned yet" }));
}

async function refreshProfile() {
  try {
    const profile = await ForYou.call("GET", `/v1/users/${encodeURIComponent(state.user)}/profile`);
    bars($("tags"), profile.tags);
    bars($("creators"), profile.creators);
    $("follows").textContent = profile.followed_creators.length ? `Following ${profile.followed_creators.join(", ")}` : "";
  } catch (error) {
    handle(error);
  }
}

async function reset() {
  try {
    await ForYou.call("POST", `/v1/users/${encodeURIComponent(state.user)}/reset`);
    state.queue = [];
    status("Your feed was reset: what ForYou learned about you is forgotten.");
    await refreshProfile();
    state.current = null;
    await next();
  } catch (error) {
    handle(error);
  }
}

async function setUpViewers() {
  const select = $("viewer");
  const fresh = ForYou.element("option", { value: "", text: "a fresh viewer" });
  select.append(fresh);
  let viewers = [];
  try { viewers = await ForYou.call("GET", "/web/viewers.json"); } catch (_) { viewers = []; }
  const ids = new Set(viewers.map((v) => v.id));
  if (!ids.has(state.user)) select.append(ForYou.element("option", { value: state.user, text: state.user }));
  for (const viewer of viewers) select.append(ForYou.element("option", { value: viewer.id, text: `${viewer.id} (${viewer.description})` }));
  select.value = state.user;
  select.addEventListener("change", () => {
    const user = select.value || "web-" + Math.random().toString(36).slice(2, 10);
    sessionStorage.setItem("foryou-viewer", user);
    const search = new URLSearchParams(location.search);
    search.set("user", user);
    location.search = search.toString();
  });
  $("speed").value = String(state.speed);
  if ($("speed").value !== String(state.speed)) $("speed").append(ForYou.element("option", { value: String(state.speed), text: `${state.speed}×` }));
  $("speed").value = String(state.speed);
  $("speed").addEventListener("change", () => { state.speed = Number($("speed").value); });
}

function setUpInput() {
  $("like").addEventListener("click", () => act("like"));
  $("share").addEventListener("click", () => act("share"));
  $("follow").addEventListener("click", () => act("follow"));
  $("not-interested").addEventListener("click", () => act("not_interested"));
  $("why").addEventListener("click", why);
  $("next").addEventListener("click", next);
  $("reset").addEventListener("click", reset);
  $("non-profiled").addEventListener("change", () => {
    state.personalized = !$("non-profiled").checked;
    state.offset = 0;
    state.queue = [];
    status(state.personalized ? "Your personalized feed." : "A feed not based on profiling: the same order for everyone.");
    next();
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    ForYou.setKey($("key-input").value);
    $("key-form").hidden = true;
    status("");
    refreshProfile();
    next();
  });
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    const actions = { ArrowDown: next, PageDown: next, j: next, l: () => act("like"), s: () => act("share"), f: () => act("follow"), n: () => act("not_interested"), w: why };
    const action = actions[event.key];
    if (action) { event.preventDefault(); action(); }
  });
  let lastWheel = 0;
  $("card").addEventListener("wheel", (event) => {
    if (event.deltaY > 30 && performance.now() - lastWheel > 600) { lastWheel = performance.now(); next(); }
  }, { passive: true });
  let touchY = null;
  $("card").addEventListener("touchstart", (event) => { touchY = event.touches[0].clientY; }, { passive: true });
  $("card").addEventListener("touchend", (event) => {
    if (touchY !== null && touchY - event.changedTouches[0].clientY > 60) next();
    touchY = null;
  });
}

ForYou.key();
setUpInput();
setUpViewers().then(() => { refreshProfile(); next(); requestAnimationFrame(tick); });
window.addEventListener("pagehide", () => {
  // The card being watched when the page closes still counts.
  if (state.current) {
    const body = JSON.stringify({ events: [{ id: eventID(), user: state.user, item: state.current.item, type: "view", watch_ms: watchedMs() }] });
    fetch("/v1/events", { method: "POST", keepalive: true, headers: { "content-type": "application/json", authorization: "Bearer " + ForYou.key() }, body });
  }
});
