// SPDX-License-Identifier: Apache-2.0
// Shared by the feed page and the console: the API key and JSON calls to the public API.
"use strict";

const ForYou = {
  // The key comes from the page address (#key=...), which browsers never send to the server, or from a
  // key typed into the page; it is kept in this tab's session storage only.
  key() {
    const match = location.hash.match(/key=([^&]+)/);
    if (match) {
      let key = match[1];
      try { key = decodeURIComponent(key); } catch (_) { /* keep it as written */ }
      sessionStorage.setItem("foryou-key", key);
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem("foryou-key") || "";
  },

  setKey(value) {
    sessionStorage.setItem("foryou-key", value.trim());
  },

  async call(method, path, body) {
    const headers = { "content-type": "application/json" };
    const key = ForYou.key();
    if (key) headers["authorization"] = "Bearer " + key;
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
    if (!response.ok) {
      const error = new Error(json && json.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return json === null ? text : json;
  },

  // Milliseconds as "1:05".
  duration(ms) {
    const seconds = Math.round(ms / 1000);
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  },

  element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  },
};
