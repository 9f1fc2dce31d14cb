// The agent's tools in a chat window's "⋯" menu: invite another agent,
// insert a greeting/farewell template, copy the chat log, add a time entry
// on the ticket. The server decides who may do what (chat/frames/agent_tools.py);
// text from people and templates goes in with textContent or as a value.

import { openModal } from "../dialogs.js";
import { el } from "../dom.js";
import { newClientId } from "./conversation.js";

let socket = null;
let dialogs = null;

// The menu items of every agent chat window (ChatWindow's `menu` option).
export function agentMenu(theSocket) {
  socket = theSocket;
  return [
    { label: "Invite agent…", when: (s) => s.status === "active", onClick: openInvite },
    { label: "Insert template…", when: (s) => s.status === "active", onClick: openTemplates },
    { label: "Copy chat log", onClick: copyLog },
    { label: "Add time entry…", when: (s) => Boolean(s.ticket_id), onClick: openTimeEntry },
  ];
}

function build() {
  if (!dialogs) dialogs = { invite: buildInvite(), templates: buildTemplates(), time: buildTimeEntry() };
  return dialogs;
}

function dialogShell(className, titleId, title, ...children) {
  const closeButton = el("button", { type: "button", class: "btn btn-link", text: "Cancel" });
  const dialog = el("dialog", { class: `chat-tool-dialog ${className}`, "aria-labelledby": titleId });
  closeButton.addEventListener("click", () => dialog.close());
  dialog.append(el("h2", { id: titleId, text: title }), ...children);
  document.body.append(dialog);
  return { dialog, closeButton };
}

function showFormError(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

// --- Invite --------------------------------------------------------------------------------
function buildInvite() {
  const list = el("div", { class: "invite-list", role: "radiogroup", "aria-label": "Available agents" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "btn btn-primary", text: "Invite" });
  const refresh = el("button", { type: "button", class: "btn btn-small", text: "Refresh" });
  const form = el("form", { method: "dialog" });
  const { dialog, closeButton } = dialogShell("chat-invite-dialog", "invite-title", "Invite an agent", form);
  form.append(
    el("p", { class: "muted", text: "Agents who are available and not in this chat." }),
    error, list,
    el("div", { class: "dialog-actions" }, refresh, closeButton, submit),
  );
  const state = { dialog, list, error, submit, win: null };
  refresh.addEventListener("click", () => loadCandidates(state));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const picked = list.querySelector("input[name=invite-agent]:checked");
    if (!picked) return showFormError(error, "Choose an agent to invite.");
    submit.disabled = true;
    try {
      const reply = await socket.request({
        type: "chat.invite", session_id: state.win.id, agent_id: Number(picked.value),
      });
      dialog.close();
      state.win.flash(`Invited ${reply.agent.name}`);
    } catch (err) {
      showFormError(error, err.message);
      // The pick list may be stale (someone went away): show the current one.
      if (err.code === "agent_unavailable" || err.code === "already_in_chat") loadCandidates(state, false);
    } finally {
      submit.disabled = false;
    }
  });
  return state;
}

async function loadCandidates(state, clearError = true) {
  const { list, error, submit, win } = state;
  if (clearError) showFormError(error, "");
  list.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
  try {
    const reply = await socket.request({ type: "chat.invite_candidates", session_id: win.id });
    const agents = reply.agents || [];
    submit.disabled = !agents.length;
    list.replaceChildren(
      ...(agents.length
        ? agents.map((agent) => {
          const id = `invite-agent-${agent.id}`;
          return el("div", { class: "invite-option" },
            el("input", { type: "radio", name: "invite-agent", id, value: String(agent.id) }),
            el("label", { for: id, text: agent.name }),
            agent.invited ? el("span", { class: "muted", text: " · invited" }) : null);
        })
        : [el("p", { class: "muted", text: "No other agent is available right now." })]),
    );
  } catch (err) {
    list.replaceChildren();
    showFormError(error, err.message);
  }
}

function openInvite(win) {
  const state = build().invite;
  state.win = win;
  openModal(state.dialog);
  loadCandidates(state);
}

// --- Templates -------------------------------------------------------------------------------
const KIND_TITLES = { greeting: "Greetings", farewell: "Farewells" };

function buildTemplates() {
  const body = el("div", { class: "template-list" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const { dialog, closeButton } = dialogShell("chat-templates-dialog", "templates-title", "Templates",
    el("p", { class: "muted", text: "The text goes into the message box; you send it." }),
    error, body);
  dialog.append(el("div", { class: "dialog-actions" }, closeButton));
  return { dialog, body, error };
}

async function openTemplates(win) {
  const { dialog, body, error } = build().templates;
  showFormError(error, "");
  body.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
  openModal(dialog);
  try {
    const reply = await socket.request({ type: "chat.templates", session_id: win.id });
    const templates = reply.templates || [];
    if (!templates.length) {
      body.replaceChildren(el("p", { class: "muted", text: "No templates yet: administrators add them in Django admin." }));
      return;
    }
    const sections = [];
    for (const kind of ["greeting", "farewell"]) {
      const ofKind = templates.filter((t) => t.kind === kind);
      if (!ofKind.length) continue;
      sections.push(el("section", { class: "template-group" },
        el("h3", { text: KIND_TITLES[kind] }),
        el("ul", {}, ...ofKind.map((t) => el("li", {},
          el("button", {
            type: "button", class: "template-pick",
            onclick: () => {
              dialog.close();
              if (!win.insertText(t.text)) win.showError("The message box is closed: the chat is not live.");
            },
          },
          el("strong", { text: t.title }),
          t.scope === "mine" ? el("span", { class: "template-scope", text: "mine" }) : null,
          el("span", { class: "template-text", text: t.text })))))));
    }
    body.replaceChildren(...sections);
  } catch (err) {
    body.replaceChildren();
    showFormError(error, err.message);
  }
}

// --- Copy chat log ------------------------------------------------------------------------------
async function writeClipboard(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http on a LAN address has no async clipboard: the old way still works.
  const area = el("textarea", { class: "visually-hidden-label", readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("The browser refused to copy.");
}

async function copyLog(win) {
  try {
    const reply = await socket.request({ type: "chat.transcript", session_id: win.id });
    await writeClipboard(reply.text);
    win.flash("Copied");
  } catch (err) {
    win.showError(`Could not copy the chat log: ${err.message}`);
  }
}

// --- Time entry ------------------------------------------------------------------------------------
function buildTimeEntry() {
  const intro = el("p", { class: "muted" });
  const minutes = el("input", {
    type: "number", id: "time-entry-minutes", name: "minutes", min: "1", max: "1440", step: "1",
    required: true, inputmode: "numeric",
  });
  const note = el("textarea", { id: "time-entry-note", name: "note", rows: "3" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "btn btn-primary", text: "Add time entry" });
  const form = el("form", { method: "dialog", novalidate: true });
  const { dialog, closeButton } = dialogShell("chat-time-dialog", "time-entry-title", "Add time entry", form);
  form.append(intro, error,
    el("div", { class: "field" }, el("label", { for: "time-entry-minutes", text: "Minutes" }), minutes),
    el("div", { class: "field" }, el("label", { for: "time-entry-note", text: "Note" }), note),
    el("div", { class: "dialog-actions" }, closeButton, submit));
  // clientId: one per opening of the dialog, sent with every try, so a try
  // whose answer was lost to a dropped connection does not log the time twice.
  const state = { dialog, intro, minutes, note, error, submit, win: null, ticketId: null, clientId: null };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const raw = minutes.value.trim();
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isInteger(value) || value < 1) {
      showFormError(error, "Minutes must be a positive whole number.");
      minutes.focus();
      return;
    }
    submit.disabled = true;
    try {
      const reply = await socket.request({
        type: "chat.time_entry", session_id: state.win.id, minutes: value, note: note.value,
        client_id: state.clientId,
      });
      dialog.close();
      state.win.flash(`Logged ${reply.entry.minutes} min on ticket #${reply.ticket_id}`);
    } catch (err) {
      showFormError(error, err.message);
    } finally {
      submit.disabled = false;
    }
  });
  return state;
}

async function openTimeEntry(win) {
  const state = build().time;
  state.win = win;
  state.clientId = newClientId();
  showFormError(state.error, "");
  state.intro.textContent = "Loading…";
  state.minutes.value = "";
  state.note.value = "";
  state.submit.disabled = true;
  openModal(state.dialog);
  try {
    const draft = await socket.request({ type: "chat.time_entry_draft", session_id: win.id });
    state.intro.textContent = `On ticket #${draft.ticket_id}: the chat's duration and its log, both editable.`;
    state.minutes.value = String(draft.minutes);
    state.note.value = draft.note;
    state.submit.disabled = false;
    state.minutes.focus();
  } catch (err) {
    state.intro.textContent = "";
    showFormError(state.error, err.message);
  }
}
