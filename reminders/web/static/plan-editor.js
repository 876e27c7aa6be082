// One aftercare plan as JSON, over GET and PUT /api/plans/{key}.
"use strict";
(() => {
  const url = "/api/plans/" + encodeURIComponent($("plan").dataset.key);
  call(url, "GET").then(([, p]) => { delete p.key; delete p.updated_at; $("plan").value = JSON.stringify(p, null, 2); });
  $("save").addEventListener("click", async () => {
    let body;
    try { body = JSON.parse($("plan").value); } catch (err) { $("status").textContent = "Not valid JSON: " + err.message; return; }
    const [code, out] = await call(url, "PUT", body);
    $("status").textContent = code === 200 ? "Saved." : problem(out);
  });
})();
