// The Block action of the agent's chat window: a dialog asks why (required)
// and whether to block the client's IP address too, then sends chat.block.
// The chat goes on; the client is not told, and its next chat requests are
// refused with a neutral message. Names go in with textContent (inert).

import { openModal } from "../dialogs.js";
import { el } from "../dom.js";
import { newClientId } from "./conversation.js";
import { formatDateTime } from "./format.js";

const DEFAULT_BLOCK_SECONDS = 24 * 3600;

function describeSeconds(seconds) {
  if (seconds % 3600 === 0) {
    const hours = seconds / 3600;
    return hours === 1 ? "an hour" : `${hours} hours`;
  }
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "a minute" : `${minutes} minutes`;
}

function buildDialog(socket, note) {
  const reason = el("textarea", {
    id: "block-reason", name: "reason", rows: "3", maxlength: "2000", required: true,
    "aria-describedby": "block-intro",
  });
  const blockIp = el("input", {
    type: "checkbox", id: "block-ip", name: "block_ip", "aria-describedby": "block-ip-warning",
  });
  const warning = el("p", {
    class: "block-ip-warning", id: "block-ip-warning",
    text: "Careful: one IP address is often shared by many people, such as everyone in an "
      + "office, a school or a café, or thousands of customers of a mobile carrier. They would "
      + "all be unable to chat. Home and mobile addresses also change, so this may not stop "
      + "the client for long.",
  });
  const intro = el("p", { class: "block-intro", id: "block-intro" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "btn btn-danger", text: "Block" });
  const form = el("form", { method: "dialog", novalidate: true },
    el("h2", { id: "block-title", text: "Block client" }), intro, error,
    el("div", { class: "field" },
      el("label", { for: "block-reason", text: "Reason (required)" }), reason),
    el("div", { class: "field block-ip-field" },
      el("label", { for: "block-ip", class: "block-ip-label" }, blockIp, " Also block IP address"),
      warning),
    el("div", { class: "dialog-actions" },
      el("button", { type: "button", class: "btn btn-link", text: "Cancel", onclick: () => dialog.close() }),
      submit));
  const dialog = el("dialog", { class: "chat-block-dialog", "aria-labelledby": "block-title" }, form);
  document.body.append(dialog);
  reason.addEventListener("input", () => { error.hidden = true; });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!reason.value.trim()) {
      error.textContent = "Say why the client is blocked.";
      error.hidden = false;
      reason.focus();
      return;
    }
    submit.disabled = true;
    try {
      const reply = await socket.request({
        type: "chat.block", session_id: dialog.sessionId,
        reason: reason.value, block_ip: blockIp.checked, client_id: dialog.clientId,
      });
      dialog.close();
      const block = reply.block;
      const what = block.ip_address ? `${block.client.name} and IP address ${block.ip_address} are`
        : `${block.client.name} is`;
      note(`${what} blocked from chat until ${formatDateTime(block.expires_at)}.`, "info");
    } catch (err) {
      error.textContent = err.message || "The client could not be blocked.";
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return { dialog, reason, blockIp, intro, error };
}

// A toolbar action for ChatWindow ({label, when, onClick}). blockSeconds is
// the server's block length (data-block-seconds of the session manager).
export function blockAction({ socket, note, blockSeconds = DEFAULT_BLOCK_SECONDS }) {
  let parts = null;
  return {
    label: "Block",
    className: "btn-block",
    // A live or just-ended chat; pushed invitations have no client request to refuse yet.
    when: (session) => session.status === "active" || session.status === "ended",
    onClick: (win) => {
      const session = win.conversation.session;
      if (!session) return;
      parts = parts || buildDialog(socket, note);
      const { dialog, reason, blockIp, intro, error } = parts;
      dialog.sessionId = session.id;
      // One per opening of the dialog, sent with every try: a try whose answer
      // was lost to a dropped connection does not block twice.
      dialog.clientId = newClientId();
      reason.value = "";
      blockIp.checked = false;
      error.hidden = true;
      intro.textContent = `${session.client.name} will not be able to start a chat for `
        + `${describeSeconds(blockSeconds || DEFAULT_BLOCK_SECONDS)}. They are not told why. `
        + "This chat goes on until you end it.";
      openModal(dialog, { first: reason });
    },
  };
}
