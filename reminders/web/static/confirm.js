// Buttons that cannot be undone ask first: a form with data-confirm="question" is sent only
// once the question is answered on the page (ask.js). Without script the form still works.
"use strict";
document.querySelectorAll("form[data-confirm]").forEach(form => {
  form.addEventListener("submit", event => {
    event.preventDefault();
    ask(form, form.dataset.confirm, () => form.submit());
  });
});
