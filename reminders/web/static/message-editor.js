// The message editor: both languages side by side, the email as structured text (or raw HTML
// under "Advanced"), a phone preview with the SMS segment count, the problems next to their
// field and the words changed since the published version, all from POST /api/templates/preview.
// The API decides; this script only shows what it says. Saving and publishing: message-publish.js.
"use strict";
const editor = (() => {
  const root = $("message-editor");
  const key = root.dataset.key;
  const locales = root.dataset.locales.split(" ");
  const api = locale => `/api/templates/${encodeURIComponent(key)}/${encodeURIComponent(locale)}`;
  const field = (part, locale) => $(`${part}-${locale}`);
  const raw = locale => $(`raw-${locale}`).checked;
  const state = {};  // per language: loaded (parts as saved), detail (GET answer), preview
  locales.forEach(l => { state[l] = {loaded: null, detail: null, preview: null, asked: 0, timer: 0}; });
  let focused = field("sms", locales[0]);

  // The parts as the API takes them: the structured email, or the two parts written by hand.
  function current(locale) {
    const value = part => field(part, locale).value;
    const own = raw(locale);
    return {
      sms: value("sms"),
      email_subject: value("email_subject"),
      email_body: own ? "" : value("email_body"),
      email_text: own ? value("email_text") : "",
      email_html: own ? value("email_html") : "",
    };
  }
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const changed = locale => !same(current(locale), state[locale].loaded);

  function showMode(locale) {
    const own = raw(locale);
    $(`structured-${locale}`).hidden = own;
    $(`raw-notice-${locale}`).hidden = !own;
    ["email_text", "email_html"].forEach(p => { field(p, locale).readOnly = !own; });
  }

  function listProblems(locale, fields) {
    document.querySelectorAll(`#locale-${locale} [data-problems]`).forEach(list => {
      const part = list.dataset.problems;
      const problems = fields[part] || [];
      list.replaceChildren(...problems.map(text => Object.assign(document.createElement("li"), {textContent: text})));
      const input = field(part, locale);
      if (input) input.setAttribute("aria-invalid", problems.length ? "true" : "false");
    });
  }

  function smsCost(sms) {
    if (!sms) return "";
    const plural = sms.segments === 1 ? "" : "s";
    const why = sms.encoding === "UCS-2" ? " (a character outside GSM-7 makes each segment 70 characters)" : "";
    return `${sms.units} characters, ${sms.encoding}${why}: ${sms.segments} segment${plural}.`;
  }

  function showChanges(locale, out) {
    const box = $(`changes-${locale}`);
    const rows = [];
    if (out.published_version === null) {
      rows.push(Object.assign(document.createElement("p"), {textContent: "Nothing is published yet: all of it is new."}));
    }
    out.changes.forEach(part => {
      const head = document.createElement("p");
      const label = Object.assign(document.createElement("strong"), {textContent: `${part.label}: `});
      head.append(label, part.added || part.removed ? wordCount(part) : "no change");
      rows.push(head);
      if (!part.added && !part.removed) return;
      const words = document.createElement("p");
      words.className = "word-diff";
      part.changes.forEach(c => {
        if (c.kind === "same") { words.append(c.text); return; }
        const mark = document.createElement(c.kind === "added" ? "ins" : "del");
        const said = Object.assign(document.createElement("span"), {className: "sr-only", textContent: c.kind === "added" ? "added: " : "removed: "});
        mark.append(said, c.text);
        words.append(mark);
      });
      rows.push(words);
    });
    box.replaceChildren(...rows);
  }
  const wordCount = part => `${part.added} word${part.added === 1 ? "" : "s"} added, ${part.removed} removed`;

  async function preview(locale) {
    const mine = ++state[locale].asked;
    const [code, out] = await call("/api/templates/preview", "POST", {key, locale, parts: current(locale)});
    if (mine !== state[locale].asked) return;  // a newer preview is on its way
    if (code !== 200) { listProblems(locale, {message: [problem(out)]}); return; }
    state[locale].preview = out;
    listProblems(locale, out.fields);
    $(`sms-cost-${locale}`).textContent = smsCost(out.sms);
    $(`preview-sms-${locale}`).textContent = out.parts.sms;
    $(`preview-subject-${locale}`).textContent = out.parts.email_subject;
    $(`preview-text-${locale}`).textContent = out.parts.email_text;
    $(`preview-html-${locale}`).srcdoc = out.parts.email_html;
    if (!raw(locale)) {  // show the parts made from the structured text, read only
      field("email_text", locale).value = out.sources.email_text;
      field("email_html", locale).value = out.sources.email_html;
    }
    showChanges(locale, out);
    root.dispatchEvent(new CustomEvent("previewed", {detail: locale}));
  }
  const soon = locale => { clearTimeout(state[locale].timer); state[locale].timer = setTimeout(() => preview(locale), 250); };

  function fill(locale, detail) {
    const shown = detail.draft || detail.published;
    const parts = shown ? shown.parts : {sms: "", email_subject: "", email_text: "", email_html: "", email_body: ""};
    ["sms", "email_subject", "email_body", "email_text", "email_html"].forEach(p => { field(p, locale).value = parts[p]; });
    const own = !parts.email_body && Boolean(parts.email_text || parts.email_html);
    $(`raw-${locale}`).checked = own;
    showMode(locale);
    state[locale].loaded = current(locale);
    const said = [];
    if (detail.published) said.push(`Published: version ${detail.published.version}.`);
    else said.push("Not published in this language yet.");
    if (detail.draft) said.push(`Showing the draft, version ${detail.draft.version}.`);
    $(`version-${locale}`).textContent = said.join(" ");
  }

  async function load(locale) {
    const [code, detail] = await call(api(locale), "GET");
    if (code !== 200) { listProblems(locale, {message: [problem(detail)]}); return null; }
    state[locale].detail = detail;
    fill(locale, detail);
    root.dispatchEvent(new CustomEvent("loaded", {detail: locale}));
    await preview(locale);
    return detail;
  }

  locales.forEach(locale => {
    document.querySelectorAll(`#locale-${locale} [data-part]`).forEach(input => {
      input.addEventListener("input", () => soon(locale));
      input.addEventListener("focus", () => { focused = input; });
    });
    $(`raw-${locale}`).addEventListener("change", () => { showMode(locale); soon(locale); });
  });
  // From HTML written by hand to structured text: start from the plain text part, which reads
  // much like structured text already (paragraphs apart, links as placeholders).
  document.querySelectorAll("[data-structure]").forEach(button => button.addEventListener("click", () => {
    const locale = button.dataset.structure;
    const body = field("email_body", locale);
    if (!body.value.trim()) body.value = field("email_text", locale).value;
    $(`raw-${locale}`).checked = false;
    showMode(locale);
    body.focus();
    preview(locale);
  }));
  document.querySelectorAll("button[data-var]").forEach(b => b.addEventListener("click", () => {
    if (focused.readOnly) return;
    const v = `{{ ${b.dataset.var} }}`, s = focused.selectionStart, e = focused.selectionEnd;
    focused.value = focused.value.slice(0, s) + v + focused.value.slice(e);
    focused.focus();
    focused.setSelectionRange(s + v.length, s + v.length);
    soon(focused.closest("[data-locale]").dataset.locale);
  }));
  locales.forEach(load);
  return {root, key, locales, api, state, current, changed, load, preview, listProblems, wordCount};
})();
