// One aftercare plan as a form, one row per step, over GET and PUT /api/plans/{key}. The
// JSON box under "Advanced" holds the same plan object: typing in either updates the other,
// and Save plan sends that object, in exactly the form the API takes (and the box used to).
"use strict";
(() => {
  const root = $("plan-editor");
  const url = "/api/plans/" + encodeURIComponent(root.dataset.key);
  const templates = JSON.parse(root.dataset.messages);
  const NIGHT = "send_in_quiet_hours_if_session_ends_before";
  // The API's names for a plan's fields, in the form's words, for its problems.
  const WORDS = {
    name: "Plan name", description: "Description", steps: "Steps", key: "step key",
    message: "message", offset: "time after the session", day: "day", at: "local time",
    not_sooner_than: "not sooner than", max_lateness: "maximum lateness",
    channels: "channels", checkin: "check-in", [NIGHT]: "quiet-hours exception",
  };
  let plan = {name: "", description: "", steps: []};
  const added = new WeakSet(); // steps added here and not saved yet: their message can change
  let jsonProblem = ""; // the JSON box does not parse: Save refuses rather than guess

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "text") node.textContent = value;
      else if (value === true) node.setAttribute(name, "");
      else if (value !== false && value != null) node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  };
  const steps = () => (Array.isArray(plan.steps) ? plan.steps : (plan.steps = []));
  const showJson = () => {
    $("plan").value = JSON.stringify(plan, null, 2);
    jsonProblem = $("json-status").textContent = "";
  };

  // --- one row per step ----------------------------------------------------------------

  const field = (id, label, input) =>
    el("div", {class: "field"}, el("label", {for: id, text: label}), input);

  const textInput = (step, id, name, attrs = {}) => {
    const input = el("input", {id, ...attrs});
    input.value = step[name] ?? "";
    input.addEventListener("input", () => {
      const v = input.value.trim();
      if (name === "day") step.day = v === "" ? null : Number(v);
      else if (name === NIGHT && v === "") delete step[NIGHT]; // no exception
      else step[name] = attrs.type === "time" && v === "" ? null : input.value;
      showJson();
    });
    return input;
  };

  const uniqueKey = (base, self) => {
    const taken = new Set(steps().filter(s => s !== self).map(s => s && s.key));
    let key = base;
    for (let n = 2; taken.has(key); n++) key = `${base}-${n}`;
    return key;
  };

  const whenFields = (step, id) => {
    if ("offset" in step) {
      const out = [field(`${id}-offset`, "Time after the session ends (30m, 2h, 1d)",
        textInput(step, `${id}-offset`, "offset", {autocomplete: "off"}))];
      if (NIGHT in step) {
        out.push(field(`${id}-night`, "Even in quiet hours if the session ended before (local time)",
          textInput(step, `${id}-night`, NIGHT, {type: "time"})));
      }
      return out;
    }
    return [
      field(`${id}-day`, "Day after the session (0: same day)",
        textInput(step, `${id}-day`, "day", {type: "number", min: 0, max: 60, inputmode: "numeric"})),
      field(`${id}-at`, "At (patient's local time)", textInput(step, `${id}-at`, "at", {type: "time"})),
      field(`${id}-not-sooner`, "Not sooner than (after the session)",
        textInput(step, `${id}-not-sooner`, "not_sooner_than", {autocomplete: "off"})),
    ];
  };

  const whenChoice = (step, id, i) => {
    const select = el("select", {id: `${id}-when`},
      el("option", {value: "offset", text: "After the session ends"}),
      el("option", {value: "day", text: "On a day, at a local time"}));
    select.value = "offset" in step ? "offset" : "day";
    select.addEventListener("change", () => {
      if (select.value === "offset") {
        delete step.day; delete step.at;
        step.offset = "30m";
      } else {
        delete step.offset; delete step[NIGHT]; // the exception needs an offset
        Object.assign(step, {day: 1, at: "09:00"});
      }
      changed(`step-${i}-when`);
    });
    return field(`${id}-when`, "When", select);
  };

  const messageChoice = (step, id, legend, i) => {
    if (!added.has(step)) {
      return el("p", {class: "step-message"}, "Sends the message ", el("strong", {text: step.message ?? ""}));
    }
    const select = el("select", {id: `${id}-message`},
      ...templates.map(key => el("option", {value: key, text: key})));
    select.value = step.message;
    select.addEventListener("change", () => {
      step.message = select.value;
      step.key = uniqueKey(select.value, step);
      legend.textContent = `Step ${i + 1}: ${step.key}`;
      showJson();
    });
    return field(`${id}-message`, "Message", select);
  };

  const channelBoxes = (step, id) => {
    const boxes = [["sms", "SMS"], ["email", "Email"]].map(([value, label]) => {
      const box = el("input", {type: "checkbox", id: `${id}-${value}`, value});
      box.checked = Array.isArray(step.channels) && step.channels.includes(value);
      return [box, el("label", {class: "check"}, box, label)];
    });
    for (const [box] of boxes) {
      box.addEventListener("change", () => {
        step.channels = boxes.filter(([b]) => b.checked).map(([b]) => b.value);
        showJson();
      });
    }
    return el("fieldset", {class: "channels", id: `${id}-channels`},
      el("legend", {text: "Channels"}), ...boxes.map(([, label]) => label));
  };

  const checkinBox = (step, id) => {
    const box = el("input", {type: "checkbox", id: `${id}-checkin`});
    box.checked = Boolean(step.checkin);
    box.addEventListener("change", () => { step.checkin = box.checked; showJson(); });
    return el("label", {class: "check"}, box, "Asks for a pain score (check-in)");
  };

  const button = (id, label, action, disabled = false) => {
    const b = el("button", {type: "button", id, text: label, disabled});
    b.addEventListener("click", action);
    return b;
  };

  const row = (step, i) => {
    const id = `step-${i}`;
    const legend = el("legend", {text: `Step ${i + 1}: ${step.key ?? "(no key)"}`});
    const last = steps().length - 1;
    const actions = el("div", {class: "step-actions"},
      button(`${id}-up`, "Move up", () => move(i, -1), i === 0),
      button(`${id}-down`, "Move down", () => move(i, 1), i === last),
      button(`${id}-remove`, "Remove", () => remove(i)));
    const box = el("fieldset", {class: "plan-step", id},
      legend,
      messageChoice(step, id, legend, i),
      el("div", {class: "step-fields"}, whenChoice(step, id, i), ...whenFields(step, id)),
      el("div", {class: "step-fields"},
        field(`${id}-lateness`, "Maximum lateness (e.g. 3h)",
          textInput(step, `${id}-lateness`, "max_lateness", {autocomplete: "off"})),
        channelBoxes(step, id),
        el("div", {}, checkinBox(step, id))),
      actions);
    return el("div", {role: "listitem"}, box);
  };

  const renderForm = () => {
    $("plan-name").value = plan.name ?? "";
    $("plan-description").value = plan.description ?? "";
    const rows = steps().map((step, i) =>
      step && typeof step === "object" && !Array.isArray(step)
        ? row(step, i)
        : el("div", {role: "listitem"}, el("p", {class: "muted", text: `Step ${i + 1}: edit it in the JSON box below.`})));
    $("steps").replaceChildren(...rows);
  };

  // A change of shape (a row added, moved, removed, or its kind of time): draw the rows again,
  // and keep the keyboard where the admin was.
  const changed = focusId => {
    renderForm();
    showJson();
    const target = $(focusId);
    if (target && !target.disabled) target.focus();
  };

  const move = (i, by) => {
    const list = steps();
    [list[i], list[i + by]] = [list[i + by], list[i]];
    const j = i + by;
    const edge = j === 0 || j === list.length - 1;
    changed(`step-${j}-${edge ? (by < 0 ? "down" : "up") : (by < 0 ? "up" : "down")}`);
    $("status").textContent = `Moved ${list[j].key} to step ${j + 1}.`;
  };

  const remove = i => {
    const [gone] = steps().splice(i, 1);
    changed(steps().length ? `step-${Math.min(i, steps().length - 1)}-when` : "add-step");
    $("status").textContent = `Removed ${gone && gone.key}; save to keep the change.`;
  };

  $("add-step").addEventListener("click", () => {
    const message = templates[0] ?? "";
    const step = {key: uniqueKey(message, null), message, day: 1, at: "09:00",
      not_sooner_than: "0m", max_lateness: "12h", channels: ["sms", "email"], checkin: false};
    added.add(step);
    steps().push(step);
    changed(`step-${steps().length - 1}-message`);
  });
  $("plan-name").addEventListener("input", () => { plan.name = $("plan-name").value; showJson(); });
  $("plan-description").addEventListener("input", () => {
    plan.description = $("plan-description").value;
    showJson();
  });

  // --- the JSON box --------------------------------------------------------------------

  $("plan").addEventListener("input", () => {
    let parsed;
    try {
      parsed = JSON.parse($("plan").value);
    } catch (err) {
      parsed = undefined;
      jsonProblem = "it is not valid JSON (" + err.message + ")";
    }
    if (parsed !== undefined && (!parsed || typeof parsed !== "object" || Array.isArray(parsed))) {
      jsonProblem = "it must be one JSON object, with a name and steps";
    } else if (parsed !== undefined) {
      jsonProblem = "";
      plan = parsed;
      renderForm();
    }
    $("json-status").textContent = jsonProblem ? `Not used yet: ${jsonProblem}.` : "";
  });

  // --- saving, and the API's problems in words -----------------------------------------

  const tidy = step => Object.fromEntries(Object.entries(step).filter(([, v]) => v !== null));
  const loaded = p => {
    plan = {name: p.name, description: p.description, steps: p.steps.map(tidy)};
    renderForm();
    showJson();
  };

  const stepName = i => {
    const step = steps()[i];
    return `Step ${i + 1}` + (step && step.key ? ` (${step.key})` : "");
  };
  const fieldWords = text => text
    .replace(/\b[a-z]+(?:_[a-z]+)+\b/g, name => WORDS[name] || name.replaceAll("_", " "))
    .replace(/^List should have at least 1 item after validation, not 0$/, "choose at least one");
  const FIELD_IDS = {offset: "offset", day: "day", at: "at", not_sooner_than: "not-sooner",
    max_lateness: "lateness", channels: "channels", message: "message", [NIGHT]: "night"};

  // Marks the row (and the field, when the problem names it or quotes its value).
  const mark = (i, name, quoted) => {
    const box = $(`step-${i}`);
    if (!box) return;
    box.classList.add("has-problem");
    const named = name && FIELD_IDS[name] ? $(`step-${i}-${FIELD_IDS[name]}`) : null;
    const fields = named ? [named] : [...box.querySelectorAll("input:not([type=checkbox])")]
      .filter(input => quoted !== undefined && input.value === quoted);
    for (const input of fields) input.setAttribute("aria-invalid", "true");
  };

  const inWords = line => {
    let m = line.match(/^steps\.(\d+)\.(\w+): (.*)$/s); // the schema's: steps.2.offset: ...
    if (m) {
      mark(Number(m[1]), m[2]);
      return `${stepName(Number(m[1]))}, ${WORDS[m[2]] || m[2]}: ${fieldWords(m[3])}`;
    }
    m = line.match(/^step (\d+) \(.*?\)(?::| is missing) (.*)$/s); // the plan's: step 3 (day-3): ...
    if (m) {
      const i = Number(m[1]) - 1;
      const quoted = (m[2].match(/'([^']*)'/) || [])[1];
      mark(i, undefined, quoted);
      return `${stepName(i)}: ${line.includes(" is missing ") ? "is missing " : ""}${fieldWords(m[2])}`;
    }
    m = line.match(/^step '(.*)': (.*)$/s); // step 'day-3': at most 60 days after the session
    if (m) {
      const i = steps().findIndex(s => s && s.key === m[1]);
      if (i >= 0) {
        mark(i);
        return `${stepName(i)}: ${m[2]}`;
      }
    }
    m = line.match(/^(\w+): (.*)$/s);
    if (m && WORDS[m[1]]) return `${WORDS[m[1]]}: ${fieldWords(m[2])}`;
    return fieldWords(line);
  };

  const problemLines = out => {
    if (Array.isArray(out.detail)) {
      return out.detail.map(d => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`);
    }
    const text = String(out.detail || (out.problems || ["The plan could not be saved."]).join(" "));
    return text.split(/; (?=[a-z_]+(?:\.\w+)*: )/); // one line per problem the schema found
  };

  const showProblems = lines => {
    $("problems").replaceChildren(...lines.map(line => el("li", {text: line})));
  };
  const clearProblems = () => {
    showProblems([]);
    for (const node of root.querySelectorAll(".has-problem")) node.classList.remove("has-problem");
    for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  };

  $("plan-form").addEventListener("submit", async event => {
    event.preventDefault();
    clearProblems();
    $("status").textContent = "Saving…";
    if (jsonProblem) {
      showProblems([`The JSON box under "Advanced": ${jsonProblem}.`]);
      $("status").textContent = "Nothing was saved.";
      return;
    }
    const [code, out] = await call(url, "PUT", plan);
    if (code === 200) {
      loaded(out);
      $("status").textContent = "Saved.";
      return;
    }
    showProblems(code === 422 ? problemLines(out).map(inWords) : [problem(out)]);
    $("status").textContent = "Nothing was saved: correct what is listed above, then save again.";
  });

  call(url, "GET").then(([code, p]) => {
    if (code === 200) loaded(p);
    else $("status").textContent = problem(p);
  });
})();
