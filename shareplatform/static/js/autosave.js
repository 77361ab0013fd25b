// Drafts of long notes, saved as the user writes (shareplatform/records/writing.py): every
// 30 seconds, only when the text changed since the last save. Without JavaScript the form's
// "Save draft" button does the same.

const form = document.querySelector("form[data-autosave-url]");
const EVERY_MS = 30000;

function snapshot(data) {
  const copy = new URLSearchParams();
  for (const [name, value] of data) {
    if (name !== "csrf_token" && name !== "submission") copy.append(name, value);
  }
  return copy.toString();
}

if (form) {
  const status = form.querySelector("[data-autosave-status]");
  let saved = snapshot(new FormData(form));

  async function save() {
    const data = new FormData(form);
    const now = snapshot(data);
    if (now === saved) return; // nothing typed: no request, so an idle page still times out
    try {
      const response = await fetch(form.dataset.autosaveUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        redirect: "manual",
      });
      if (!response.ok) {
        // signed out (a redirect to sign-in): stop; the timeout warning keeps the form
        if (response.type === "opaqueredirect") clearInterval(timer);
        return;
      }
      const answer = await response.json();
      saved = now;
      document.dispatchEvent(new CustomEvent("app:server-activity"));
      if (answer.saved && status) status.textContent = `Draft saved at ${answer.saved_at}. Only you can see it.`;
    } catch {
      // offline or signed out: the timeout warning keeps the form when the session ends
    }
  }

  const timer = setInterval(save, EVERY_MS);
}
