// Clinic settings: one form over GET and PUT /api/settings.
"use strict";
(() => {
  const names = [...document.querySelectorAll("#settings input")].map(input => input.id);
  call("/api/settings", "GET").then(([, s]) => names.forEach(n => { $(n).value = s[n] ?? ""; }));
  $("settings").addEventListener("submit", async e => {
    e.preventDefault();
    const value = n => n.startsWith("cap_") ? ($(n).value ? Number($(n).value) : null) : $(n).value;
    const [code, out] = await call("/api/settings", "PUT", Object.fromEntries(names.map(n => [n, value(n)])));
    $("status").textContent = code === 200 ? "Saved." : problem(out);
  });
})();
