// The phone key: register a passkey on this phone, then sign a fresh challenge to open a door.
// The browser's own JSON forms of WebAuthn are used (parseCreationOptionsFromJSON, toJSON);
// without them, or outside a secure context (HTTPS with a host name, or localhost), the page
// says why the phone key is unavailable and nothing else changes.
(function () {
  "use strict";
  var panel = document.getElementById("phone-key");
  if (!panel) {
    return;
  }
  var status = panel.querySelector("[role=status]");
  var csrf = panel.dataset.csrf;
  var supported = window.isSecureContext && window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";
  if (!supported) {
    status.textContent = panel.dataset.unavailable;
    return;
  }

  async function post(path, body) {
    var response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    var answer = await response.json();
    if (!response.ok) {
      throw new Error(answer.error || response.statusText);
    }
    return answer;
  }

  async function register() {
    var options = await post("/phone/register/options", {});
    var created = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    await post("/phone/register", created.toJSON());
    window.location.reload();
  }

  async function open(door) {
    var options = await post("/phone/open/options", { door: door });
    var signed = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    var answer = await post("/phone/open", signed.toJSON());
    status.textContent = answer.says;
  }

  panel.querySelectorAll("button[data-action]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        if (button.dataset.action === "register") {
          await register();
        } else {
          await open(button.dataset.door);
        }
      } catch (error) {
        status.textContent = panel.dataset.failed + " " + error.message;
      } finally {
        button.disabled = false;
      }
    });
  });
  status.textContent = status.textContent.trim();
})();
