// Transfer (an agent hands a live chat over) and Assign (a supervisor places a
// request or a chat with an agent): one dialog. The pick list only offers who
// is available when it is read, and a Refresh button reads it again; the
// server checks again when the transfer is made. Names go in as text.

import { openModal } from "../dialogs.js";
import { el } from "../dom.js";

let dialog = null;

function build(socket) {
  const target = el("select", { id: "transfer-target", name: "target", required: true });
  const reason = el("textarea", { id: "transfer-reason", name: "reason", rows: "3", maxlength: "500" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const intro = el("p", { class: "transfer-intro" });
  const empty = el("p", { class: "transfer-empty", hidden: true,
    text: "Nobody is available to take this chat right now." });
  const refresh = el("button", { type: "button", class: "btn btn-small", text: "Refresh list" });
  const submit = el("button", { type: "submit", class: "btn btn-primary", text: "Transfer" });
  const title = el("h2", { id: "transfer-title", text: "Transfer chat" });
  const form = el("form", { method: "dialog", novalidate: true },
    title, intro, error,
    el("div", { class: "field" },
      el("label", { for: "transfer-target", text: "Transfer to" }),
      el("div", { class: "transfer-pick" }, target, refresh),
      empty),
    el("div", { class: "field" },
      el("label", { for: "transfer-reason", text: "Reason (for staff; the client does not see it)" }),
      reason),
    el("div", { class: "dialog-actions" },
      el("button", { type: "button", class: "btn btn-link", text: "Cancel", onclick: () => node.close() }),
      submit));
  const node = el("dialog", { class: "chat-tool-dialog chat-transfer-dialog", "aria-labelledby": "transfer-title" }, form);
  document.body.append(node);

  const state = { node, target, reason, error, intro, empty, submit, title, sessionId: null, onDone: null };

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  async function load() {
    showError("");
    refresh.disabled = true;
    try {
      const targets = await socket.request({ type: "chat.transfer_targets", session_id: state.sessionId });
      const chosen = target.value;
      target.replaceChildren(el("option", { value: "", text: "Choose an agent or a queue" }));
      if (targets.agents.length) {
        target.append(el("optgroup", { label: "Agents available now" },
          ...targets.agents.map((a) => el("option", { value: `agent:${a.id}`,
            text: `${a.name} (${a.open_chats} of ${targets.limit} chats)` }))));
      }
      if (targets.queues.length) {
        target.append(el("optgroup", { label: "Queues (the least busy available agent)" },
          ...targets.queues.map((q) => el("option", { value: `queue:${q.id}`,
            text: `${q.name} (${q.available} available)` }))));
      }
      if ([...target.options].some((o) => o.value === chosen)) target.value = chosen;
      const none = !targets.agents.length && !targets.queues.length;
      empty.hidden = !none;
      submit.disabled = none;
    } catch (err) {
      showError(err.message);
    } finally {
      refresh.disabled = false;
    }
  }

  refresh.addEventListener("click", load);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [kind, id] = target.value.split(":");
    if (!id) return showError("Choose an agent or a queue.");
    if (!reason.value.trim()) return showError("Say why the chat is transferred.");
    submit.disabled = true;
    try {
      const frame = { type: "chat.transfer", session_id: state.sessionId, reason: reason.value };
      frame[kind === "queue" ? "queue_id" : "agent_id"] = Number(id);
      const done = await socket.request(frame);
      node.close();
      if (state.onDone) state.onDone(done.session);
    } catch (err) {
      showError(err.message);
      // Whoever went away is no longer offered.
      if (err.code === "target_unavailable" || err.code === "at_capacity") load();
    } finally {
      submit.disabled = false;
    }
  });
  state.load = load;
  return state;
}

// Open the dialog for a chat. `assign` words it for a supervisor placing a
// chat it is not in; `onDone(session)` runs after the server made the move.
export function openTransferDialog(socket, session, { assign = false, onDone = null } = {}) {
  if (!dialog) dialog = build(socket);
  dialog.sessionId = session.id;
  dialog.onDone = onDone;
  dialog.title.textContent = assign ? "Assign chat" : "Transfer chat";
  dialog.submit.textContent = assign ? "Assign" : "Transfer";
  const what = `${session.client.name}: ${session.title}.`;
  if (!assign) dialog.intro.textContent = `${what} You leave the chat once it is transferred.`;
  else if (session.status === "waiting") dialog.intro.textContent = `${what} The agent you choose answers the request.`;
  else dialog.intro.textContent = `${what} The agents in the chat now leave it to the agent you choose.`;
  dialog.target.replaceChildren(el("option", { value: "", text: "Loading…" }));
  dialog.reason.value = "";
  dialog.error.hidden = true;
  dialog.empty.hidden = true;
  openModal(dialog.node);
  dialog.load();
}
