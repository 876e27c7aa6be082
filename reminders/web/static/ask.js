// A question asked on the page before something that cannot be undone: an alertdialog under
// the button, with "Yes, go ahead" (focused) and "Not now". Used instead of window.confirm,
// which screen readers announce poorly and which some browsers let a page suppress.
"use strict";
function ask(after, question, onYes) {
  const box = document.createElement("div");
  const id = `ask-${Math.random().toString(36).slice(2)}`;
  box.setAttribute("role", "alertdialog");
  box.setAttribute("aria-labelledby", id);
  box.className = "ask";
  const text = document.createElement("p");
  text.id = id;
  text.textContent = question;
  const yes = document.createElement("button");
  yes.type = "button";
  yes.textContent = "Yes, go ahead";
  const no = document.createElement("button");
  no.type = "button";
  no.textContent = "Not now";
  box.append(text, yes, " ", no);
  document.querySelectorAll(".ask").forEach(old => old.remove());
  after.insertAdjacentElement("afterend", box);
  yes.addEventListener("click", () => { box.remove(); onYes(); });
  no.addEventListener("click", () => { box.remove(); (after.querySelector("button") || after).focus(); });
  yes.focus();
}
