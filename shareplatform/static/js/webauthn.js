// Security keys (WebAuthn) for the forms marked data-webauthn="register" or "sign-in".
// The forms stay hidden unless this browser can use a key; the server checks everything
// (shareplatform/accounts/webauthn.py). JSON posts carry the page's CSRF token in X-CSRFToken.

const bytes = (text) => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "===".slice((base64.length + 3) % 4)), (c) => c.charCodeAt(0));
};

const text = (buffer) => {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const withIds = (list) => (list || []).map((c) => ({ ...c, id: bytes(c.id) }));

function creationOptions(json) {
  return {
    ...json,
    challenge: bytes(json.challenge),
    user: { ...json.user, id: bytes(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  };
}

function requestOptions(json) {
  return { ...json, challenge: bytes(json.challenge), allowCredentials: withIds(json.allowCredentials) };
}

function credentialJSON(credential) {
  const r = credential.response;
  const response = { clientDataJSON: text(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = text(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = text(r.authenticatorData);
    response.signature = text(r.signature);
    if (r.userHandle) response.userHandle = text(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: text(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

async function post(form, url, body) {
  const reply = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": form.querySelector("input[name=csrf_token]").value,
    },
    body: JSON.stringify(body),
  });
  const data = await reply.json().catch(() => ({ error: "Something went wrong. Reload the page and try again." }));
  if (!reply.ok) throw Object.assign(new Error(data.error || "Something went wrong"), { shown: true });
  if (data.redirect) window.location.assign(data.redirect);
  return data;
}

function showProblem(form, error) {
  const box = form.querySelector("[data-webauthn-error]");
  const message = error && error.shown
    ? error.message
    : "Your security key did not answer. Try again, or use the code from your authenticator app.";
  box.querySelector("[data-webauthn-message]").textContent = message;
  box.hidden = false;
  box.focus();
}

async function register(form) {
  const nickname = form.querySelector("[name=nickname]").value;
  const code = form.querySelector("[name=code]").value;
  const options = await post(form, form.dataset.optionsUrl, { nickname, code });
  const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
  await post(form, form.dataset.verifyUrl, { nickname, credential: credentialJSON(credential) });
}

async function signIn(form) {
  const options = await post(form, form.dataset.optionsUrl, {});
  const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
  await post(form, form.dataset.verifyUrl, { credential: credentialJSON(credential), next: form.dataset.next });
}

const CEREMONIES = { register, "sign-in": signIn };

if (window.PublicKeyCredential && navigator.credentials) {
  for (const form of document.querySelectorAll("form[data-webauthn]")) {
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      CEREMONIES[form.dataset.webauthn](form)
        .catch((error) => showProblem(form, error))
        .finally(() => { button.disabled = false; });
    });
  }
}
