// The message editor's actions: save the drafts, publish after a question on the page that
// says what changes in words, and each language's history (diff, roll back). Content is
// checked by the API on every save and publish: a refusal is shown next to its field.
"use strict";
(() => {
  const {root, locales, api, state, current, changed, load, listProblems, wordCount} = editor;
  const name = locale => $(`title-${locale}`).textContent;
  const say = text => { $("status").textContent = text; };

  // Saves each language whose text differs from what was loaded; false if one was refused.
  async function saveChanged() {
    for (const locale of locales.filter(changed)) {
      const [code, out] = await call(`${api(locale)}/draft`, "PUT", {parts: current(locale)});
      if (code !== 200 && code !== 201) {
        listProblems(locale, out.fields || {message: [problem(out)]});
        say(`The ${name(locale)} draft was not saved: ${problem(out)}`);
        $(`locale-${locale}`).querySelector("[aria-invalid=true]")?.focus();
        return false;
      }
      await load(locale);
    }
    return true;
  }

  $("save").addEventListener("click", async () => {
    const changing = locales.filter(changed);
    if (!changing.length) { say("Nothing to save: no change since the last save."); return; }
    if (await saveChanged()) say(`Draft saved: ${changing.map(name).join(" and ")}.`);
  });

  // What publishing would change, in words, per language (from the latest previews).
  function summary(locale) {
    const preview = state[locale].preview;
    const parts = preview ? preview.changes.filter(p => p.added || p.removed) : [];
    const words = parts.map(p => `${p.label}: ${wordCount(p)}`).join("; ");
    return `${name(locale)}: ${words || "no change in words"}.`;
  }
  const toPublish = () => locales.filter(l => changed(l) || (state[l].detail && state[l].detail.draft));

  $("publish").addEventListener("click", () => {
    const targets = toPublish();
    if (!targets.length) { say("Nothing to publish: this is the published version."); return; }
    const blocked = targets.filter(l => state[l].preview && !state[l].preview.ok);
    if (blocked.length) {
      say(`Not published: fix the problems shown in ${blocked.map(name).join(" and ")} first.`);
      return;
    }
    $("publish-summary").replaceChildren(...targets.map(l => Object.assign(document.createElement("li"), {textContent: summary(l)})));
    $("publish-confirm").hidden = false;
    $("publish-yes").focus();
  });
  const notNow = () => {
    $("publish-confirm").hidden = true;
    $("publish").focus();
  };
  $("publish-no").addEventListener("click", notNow);
  $("publish-confirm").addEventListener("keydown", event => { if (event.key === "Escape") notNow(); });
  $("publish-yes").addEventListener("click", async () => {
    $("publish-confirm").hidden = true;
    const targets = toPublish();
    if (!(await saveChanged())) return;
    const done = [];
    for (const locale of targets) {
      const [code, out] = await call(`${api(locale)}/publish`, "POST", {apply_to_pending: $("apply").checked});
      if (code !== 200) {
        if (out.fields) listProblems(locale, out.fields);
        say(`${done.length ? `Published ${done.join(" and ")}. ` : ""}${name(locale)} was not published: ${problem(out)}`);
        return;
      }
      done.push(`${name(locale)} v${out.published.version}`);
      await load(locale);
    }
    say(`Published ${done.join(" and ")}.`);
  });

  function history(locale) {
    const detail = state[locale].detail;
    const table = $(`history-${locale}`);
    const head = table.rows[0];
    const rows = detail.history.map(v => {
      const row = document.createElement("tr");
      [`v${v.version}`, v.status, v.created_by].forEach(text => row.append(Object.assign(document.createElement("td"), {textContent: text})));
      const actions = document.createElement("td");
      if (detail.published && v.version !== detail.published.version) {
        actions.append(button(`Diff v${v.version} with published`, () => showDiff(locale, v.version)), " ");
      }
      if (v.status === "retired") actions.append(button(`Roll back to v${v.version}`, () => rollBack(locale, v.version)));
      row.append(actions);
      return row;
    });
    table.replaceChildren(head, ...rows);
  }
  const button = (text, onClick) => {
    const b = Object.assign(document.createElement("button"), {type: "button", textContent: text});
    b.addEventListener("click", onClick);
    return b;
  };
  async function showDiff(locale, version) {
    const published = state[locale].detail.published.version;
    const [, d] = await call(`${api(locale)}/diff?from=${version}&to=${published}`, "GET");
    $(`diff-${locale}`).textContent = d.diff || "(no difference)";
  }
  async function rollBack(locale, version) {
    const [code, r] = await call(`${api(locale)}/rollback`, "POST", {to_version: version, apply_to_pending: $("apply").checked});
    if (code === 200) await load(locale);
    say(code === 200 ? `Published ${name(locale)} v${r.published.version} (a copy of v${version}).` : problem(r));
  }
  root.addEventListener("loaded", event => history(event.detail));
})();
