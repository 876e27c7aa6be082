// Buttons that cannot be undone ask first: a form with data-confirm="question" is sent only
// when the question is answered OK. Without script the form still works, as before.
"use strict";
document.querySelectorAll("form[data-confirm]").forEach(form => {
  form.addEventListener("submit", event => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
