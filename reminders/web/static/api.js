// What every page that edits through the JSON API shares: the session's CSRF token goes in
// a header, and every answer comes back as [status, json].
"use strict";
const csrf = document.querySelector("meta[name=csrf]").content;
const $ = id => document.getElementById(id);
const esc = v => String(v).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
const call = (url, method, body) => fetch(url, {
  method,
  headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
  body: body === undefined ? undefined : JSON.stringify(body),
}).then(async r => [r.status, await r.json().catch(() => ({}))]);
const problem = out => Array.isArray(out.detail)
  ? out.detail.map(d => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")
  : (out.problems || [out.detail || "Not saved."]).join(" ");
