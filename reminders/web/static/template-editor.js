// The template editor: draft, live preview with the SMS segment count, publish, history, diff
// and roll back, over /api/templates/{key}/{locale}.
"use strict";
(() => {
  const {key, locale} = $("editor").dataset;
  const api = `/api/templates/${encodeURIComponent(key)}/${encodeURIComponent(locale)}`;
  const parts = ["sms", "email_subject", "email_text", "email_html"];
  const current = () => Object.fromEntries(parts.map(p => [p, $(p).value]));
  let timer, focused = $("sms"), asked = 0;
  async function preview() {
    const mine = ++asked;
    const [, out] = await call("/api/templates/preview", "POST", {key, locale, parts: current()});
    if (mine !== asked) return;  // a newer preview is on its way: never show an older text over it
    $("problems").innerHTML = "";
    (out.problems || []).forEach(p => { const li = document.createElement("li"); li.textContent = p; $("problems").append(li); });
    $("preview-sms").textContent = out.parts ? out.parts.sms : "";
    $("sms-cost").textContent = out.sms ? `${out.sms.encoding}, ${out.sms.segments} segment(s), ${out.sms.units} units` : "";
    $("preview-subject").textContent = out.parts ? out.parts.email_subject : "";
    $("preview-text").textContent = out.parts ? out.parts.email_text : "";
    $("preview-html").srcdoc = out.parts ? out.parts.email_html : "";
  }
  parts.forEach(p => {
    $(p).addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(preview, 250); });
    $(p).addEventListener("focus", () => { focused = $(p); });
  });
  document.querySelectorAll("button[data-var]").forEach(b => b.addEventListener("click", () => {
    const v = `{{ ${b.dataset.var} }}`, s = focused.selectionStart, e = focused.selectionEnd;
    focused.value = focused.value.slice(0, s) + v + focused.value.slice(e);
    focused.focus();
    preview();
  }));
  async function load() {
    const [, t] = await call(api, "GET");
    const shown = t.draft || t.published;
    if (shown) parts.forEach(p => { $(p).value = shown.parts[p]; });
    const rows = t.history.map(v => `<tr><td>v${v.version}</td><td>${esc(v.status)}</td><td>${esc(v.created_by)}</td><td>` +
      (t.published && v.version !== t.published.version ? `<button data-diff="${v.version}">Diff with published</button> ` : "") +
      (v.status === "retired" ? `<button data-rollback="${v.version}">Roll back to v${v.version}</button>` : "") + "</td></tr>").join("");
    $("history").innerHTML = "<tr><th>Version</th><th>Status</th><th>By</th><th></th></tr>" + rows;
    document.querySelectorAll("[data-diff]").forEach(b => b.addEventListener("click", async () => {
      const [, d] = await call(`${api}/diff?from=${b.dataset.diff}&to=${t.published.version}`, "GET");
      $("diff").textContent = d.diff || "(no difference)";
    }));
    document.querySelectorAll("[data-rollback]").forEach(b => b.addEventListener("click", async () => {
      const [code, r] = await call(`${api}/rollback`, "POST", {to_version: Number(b.dataset.rollback), apply_to_pending: $("apply").checked});
      if (code === 200) await load();
      $("status").textContent = code === 200 ? `Published v${r.published.version} (a copy of v${b.dataset.rollback}).` : problem(r);
    }));
    preview();
  }
  $("save").addEventListener("click", async () => {
    const [code, r] = await call(`${api}/draft`, "PUT", {parts: current()});
    if (code === 200 || code === 201) await load();
    $("status").textContent = code === 200 || code === 201 ? `Draft v${r.version} saved.` : problem(r);
  });
  // Publishing asks first, on the page (a question the admin can read and answer by keyboard).
  $("publish").addEventListener("click", () => {
    $("publish-confirm").hidden = false;
    $("publish-yes").focus();
  });
  $("publish-no").addEventListener("click", () => {
    $("publish-confirm").hidden = true;
    $("publish").focus();
  });
  $("publish-yes").addEventListener("click", async () => {
    $("publish-confirm").hidden = true;
    const [code, r] = await call(`${api}/publish`, "POST", {apply_to_pending: $("apply").checked});
    if (code === 200) await load();
    $("status").textContent = code === 200 ? `Published v${r.published.version}.` : problem(r);
  });
  load();
})();
