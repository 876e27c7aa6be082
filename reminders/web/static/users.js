// Users: list, add, reset a password, deactivate; over /api/users.
"use strict";
(() => {
  const me = Number($("users").dataset.me);
  async function load() {
    const [, users] = await call("/api/users", "GET");
    $("users").innerHTML = "<tr><th>Name</th><th>Email</th><th>Role</th><th>Active</th><th></th></tr>" + users.map(u =>
      `<tr><td>${esc(u.name)}</td><td>${esc(u.email)}</td><td>${esc(u.role)}</td><td>${u.active ? "yes" : "no"}</td><td>` +
      (u.active && u.id !== me ? `<button data-reset="${u.id}" data-email="${esc(u.email)}">Reset password</button> <button data-off="${u.id}">Deactivate</button>` : "") +
      "</td></tr>").join("");
    document.querySelectorAll("[data-off]").forEach(b => b.addEventListener("click", async () => {
      const [code, out] = await call(`/api/users/${b.dataset.off}/deactivate`, "POST");
      await load();
      $("status").textContent = code === 200 ? "Deactivated." : problem(out);
    }));
    document.querySelectorAll("[data-reset]").forEach(b => b.addEventListener("click", () => {
      ask(b, `Give ${b.dataset.email} a temporary password? Their sessions end now.`, async () => {
        const [code, out] = await call(`/api/users/${b.dataset.reset}/reset-password`, "POST");
        $("status").textContent = code === 200
          ? `Temporary password for ${out.email}: ${out.temporary_password} (shown once; good for one sign-in until ${new Date(out.expires_at).toLocaleString()}).`
          : problem(out);
      });
    }));
  }
  $("add").addEventListener("submit", async e => {
    e.preventDefault();
    const [code, out] = await call("/api/users", "POST",
      {email: $("email").value, name: $("name").value, role: $("role").value, password: $("password").value});
    if (code === 201) $("add").reset();
    await load();
    $("added").textContent = code === 201 ? `Added ${out.email}.` : problem(out);
  });
  load();
})();
