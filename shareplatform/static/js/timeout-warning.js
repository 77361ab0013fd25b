// The GOV.UK timeout warning: a modal dialog before the idle timeout ends the session
// (templates/components/timeout_warning.html). No framework; loaded as a nonce'd module.
//
// The server's idle clock started no later than this page's last request (it refreshes
// last_seen at most every 30 s: shareplatform/accounts/auth.py TOUCH_EVERY), so at the end of
// this countdown the session has certainly ended: a form on the page is then posted, and the
// server keeps it for its author (shareplatform/web/forms.py keep_on_timeout).

const dialog = document.querySelector("[data-module='app-timeout-warning']");

function inWords(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds >= 60) {
    const minutes = Math.ceil(seconds / 60);
    return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

if (dialog && typeof dialog.showModal === "function") {
  const idle = Number(dialog.dataset.idleSeconds) * 1000;
  const warnFor = Math.min(Number(dialog.dataset.warnSeconds) * 1000, idle / 2);
  const countdown = dialog.querySelector("[data-countdown]");
  const announce = dialog.querySelector("[data-announce]");
  const stayButton = dialog.querySelector("[data-stay]");
  let lastActive = Date.now();
  let warnTimer = 0;
  let tickTimer = 0;
  let announced = "";
  let returnFocus = null;

  const remaining = () => lastActive + idle - Date.now();

  function schedule() {
    clearTimeout(warnTimer);
    warnTimer = setTimeout(warn, Math.max(0, remaining() - warnFor));
  }

  function tick() {
    const left = remaining();
    if (left <= 0) {
      timeOut();
      return;
    }
    const words = inWords(left);
    countdown.textContent = words;
    // screen readers hear the whole minutes, then the last 20 seconds: not every second
    const spoken = left > 60000 ? words : left <= 20000 ? inWords(20000) : inWords(60000);
    if (spoken !== announced) {
      announced = spoken;
      announce.textContent = `You will be signed out in ${spoken}.`;
    }
  }

  function warn() {
    if (dialog.open) return;
    returnFocus = document.activeElement;
    announced = "";
    tick();
    dialog.showModal();
    stayButton.focus();
    tickTimer = setInterval(tick, 1000);
  }

  function close() {
    clearInterval(tickTimer);
    if (dialog.open) dialog.close();
    announce.textContent = "";
    if (returnFocus && typeof returnFocus.focus === "function") returnFocus.focus();
  }

  function timeOut() {
    clearInterval(tickTimer);
    const form = document.querySelector("form[data-keep-on-timeout]");
    if (form) {
      // posted after the session ended: kept server-side, restored after signing in again;
      // should the session still be alive (another tab), it is saved as a draft instead
      const marker = document.createElement("input");
      marker.type = "hidden";
      marker.name = "action";
      marker.value = "draft";
      form.appendChild(marker);
      HTMLFormElement.prototype.submit.call(form);
      return;
    }
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    window.location.assign(`${dialog.dataset.signInUrl}&next=${next}`);
  }

  async function stay() {
    try {
      const response = await fetch(dialog.dataset.keepAliveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": dialog.dataset.csrfToken, Accept: "application/json" },
        redirect: "manual",
      });
      if (!response.ok) throw new Error("the session has ended");
    } catch {
      timeOut();
      return;
    }
    lastActive = Date.now();
    close();
    schedule();
  }

  stayButton.addEventListener("click", stay);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape means "stay signed in", as the GOV.UK pattern has it
    stay();
  });
  // a request another script made (autosave) started the server's idle clock again
  document.addEventListener("app:server-activity", () => {
    lastActive = Date.now();
    if (!dialog.open) schedule();
  });
  schedule();
}
