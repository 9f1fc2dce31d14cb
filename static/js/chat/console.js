// Agent console: chat request notifications (toast top-left, a sound that
// repeats while the tab is hidden, a browser notification), the session
// manager (queue with live waiting time, my chats, other agents' chats, and
// the follow-up cards: abandoned requests and callbacks) and the chat windows
// docked at the bottom. On the workspace page (/console/chats/) the windows
// and the lists go to its panes instead (workspace.js); Join anywhere else
// opens the chat there.

import { openModal } from "../dialogs.js";
import { dataJson, el } from "../dom.js";
import { getSocket } from "../socket.js";
import { actionToast, messageToast } from "../toasts.js";
import { blockAction } from "./block.js";
import { channelBadge } from "./channels.js";
import { ChatWindow } from "./chat_window.js";
import { attachComments, installComments } from "./comments.js";
import { formatDuration, formatTime } from "./format.js";
import { attachVisitorInfo, installVisitorInfo } from "./visitor_info.js";
import { askNotificationPermission, chime, showNotification, unlockAudioOnFirstGesture } from "./notify.js";
import { installMuteToggle } from "./mute_toggle.js";
import { hasUnread, showCount } from "./unread.js";
import { agentMenu } from "./agent_tools.js";
import { linkContactItem } from "./link_contact.js";
import { DockNavigation } from "./dock.js";
import { installShortcuts } from "./shortcuts.js";
import { openTransferDialog } from "./transfer.js";
import { Workspace } from "./workspace.js";
import { openTemplateDialog, templateMenuItem } from "./whatsapp_templates.js";
import { installReachOut } from "./reach_out.js";

const socket = getSocket();
const userId = Number(document.body.dataset.userId || 0);
const dock = document.getElementById("chat-dock");
const manager = document.getElementById("session-manager");
const warningSeconds = Number((manager && manager.dataset.warningSeconds) || 30);
// The Block action of every chat window (block.js builds its dialog once).
const blockChat = blockAction({ socket, note, blockSeconds: Number(manager && manager.dataset.blockSeconds) });
const SOUND_REPEAT_MS = 5000;

const sessions = new Map(); // id -> session payload (every section of the manager)
const windows = new Map(); // id -> ChatWindow
const requestToasts = new Map(); // id -> toast element
const inviteToasts = new Map(); // id -> toast of another agent's invitation into a live chat
let clockOffset = 0; // server time minus browser time, from the snapshot
// The queues whose requests and chats this console lists (the snapshot's
// queue_ids); null: every queue (a supervisor's console, or before the snapshot).
let queueIds = null;

const now = () => Date.now() + clockOffset;

const NOTE_MS = 8000;
const workspaceUrl = (manager && manager.dataset.workspaceUrl) || "/console/chats/";
// The workspace's panes, on /console/chats/ only (workspace.js); null elsewhere.
const workspaceRoot = document.getElementById("workspace");
const workspace = workspaceRoot
  ? new Workspace(workspaceRoot, {
    windows,
    groups: groupedSessions,
    joinButton,
    followUpCard,
    agentNames,
    clock: now,
    warningSeconds,
    userId,
    isSupervisor: ["supervisor", "administrator"].includes(document.body.dataset.role),
  })
  : null;
// Which chat the keyboard shortcuts act on, and moving between chats: the
// workspace's panes, or the docked windows.
const chats = workspace || new DockNavigation(dock, windows, manager);

// Errors (the default) and confirmations ("info"), as toasts that go by themselves.
function note(message, kind = "error") {
  messageToast(message, { kind, timeout: NOTE_MS });
}

// --- Which list a session belongs in ---------------------------------------------------------
function inRoom(session) {
  return session.participants.some((p) => p.user.id === userId && p.in_room);
}

// A chat of one of this agent's queues, or of no queue (chat/queues.py). A
// transfer to another queue moves it out of this console's lists.
function ownQueue(session) {
  return queueIds === null || session.queue_id === null || queueIds.has(session.queue_id);
}

function section(session) {
  if (!inRoom(session) && !ownQueue(session)) return null;
  if (session.status === "waiting") return "queue";
  if (session.status === "abandoned") return "abandoned";
  if (session.status === "callback") return "callbacks";
  if (inRoom(session)) return "mine";
  if (session.status === "active") return "others";
  return null;
}

function upsert(session, { render = true } = {}) {
  if (section(session)) sessions.set(session.id, session);
  else sessions.delete(session.id);
  const win = windows.get(session.id);
  const before = win && win.conversation.session;
  if (win && before && before.status === "active" && inRoom(before)
      && session.status === "active" && !inRoom(session)) {
    // A supervisor assigned the chat to someone else: this agent is out of it.
    closeWindow(win);
    note(`The chat with ${session.client.name} is now with ${agentNames(session) || "another agent"}.`, "info");
  } else if (win) {
    win.conversation.applySession(session);
  }
  if (session.status !== "waiting") dropRequestToast(session.id);
  if (session.status !== "active" || inRoom(session)) dropInviteToast(session.id);
  if (render) renderManager();
}

// --- Session manager --------------------------------------------------------------------------
function agentNames(session) {
  return session.participants.filter((p) => p.role === "agent" && p.in_room).map((p) => p.user.name).join(", ");
}

function queueRow(session) {
  const waitedMs = now() - Date.parse(session.requested_at);
  // Red from the local clock, on time; the server's warned_at also counts.
  const overdue = Boolean(session.warned_at) || waitedMs >= warningSeconds * 1000;
  return el("li", { class: `sm-item${overdue ? " overdue" : ""}`, "data-session-id": String(session.id),
    "data-requested-at": session.requested_at, "data-warned": session.warned_at ? "1" : null },
    el("div", { class: "sm-main" },
      el("strong", { class: "sm-title", text: session.title }),
      el("span", { class: "sm-sub" }, channelBadge(session), `${session.client.name} · ${session.company || ""}`)),
    el("span", { class: "sm-wait", title: "Waiting time", text: formatDuration(waitedMs) }),
    joinButton(session.id));
}

// Join of a queue row, a request toast or an invitation toast.
function joinButton(sessionId) {
  return el("button", { type: "button", class: "btn btn-primary btn-small", text: "Join",
    onclick: (e) => join(sessionId, e.currentTarget) });
}

function chatRow(session, mine) {
  const label = mine ? (session.status === "active" ? "Open" : session.status) : agentNames(session);
  return el("li", { class: `sm-item status-${session.status}`, "data-session-id": String(session.id) },
    el("div", { class: "sm-main" },
      el("strong", { class: "sm-title", text: session.title }),
      el("span", { class: "sm-sub" }, channelBadge(session),
        `${session.client.name}${mine ? "" : ` · with ${label || "nobody"}`}`)),
    mine
      ? el("button", { type: "button", class: "btn btn-small", text: windows.has(session.id) ? "Show" : "Open",
        onclick: () => openWindow(session, { focus: true }) })
      : null);
}

// A follow-up card: an abandoned request or a callback, until End session.
function followUpCard(session) {
  const callback = session.status === "callback";
  const ended = session.ended_at || session.closed_at;
  const waitedMs = ended ? Date.parse(ended) - Date.parse(session.requested_at) : 0;
  const titleId = `sm-card-${session.id}`;
  const postTicket = session.status === "abandoned" && session.ticket_id;
  return el("li", { class: `sm-item sm-card status-${session.status}`, "data-session-id": String(session.id),
    "aria-labelledby": titleId },
    el("div", { class: "sm-main" },
      el("strong", { class: "sm-title", id: titleId, title: session.title, text: session.title }),
      el("span", { class: "sm-sub" }, channelBadge(session),
        `${session.client.name} · ${session.company || "no company"}`),
      el("span", { class: "sm-card-meta" },
        el("time", { class: "sm-requested", datetime: session.requested_at,
          text: formatTime(session.requested_at) }),
        el("span", { class: "sm-waited", title: "Time waited before the request ended",
          text: `waited ${formatDuration(waitedMs)}` }),
        session.outside_hours ? el("span", { class: "sm-badge", text: "Outside hours" }) : null,
        session.console_ticket_url
          ? el("a", { href: session.console_ticket_url, class: "sm-ticket", text: `Ticket #${session.ticket_id}` })
          : null),
      callback && session.callback_phone
        ? el("a", { class: "sm-phone", href: `tel:${session.callback_phone}`,
          title: `Call ${session.client.name}`, text: `☎ ${session.callback_phone}` })
        : null,
      callback && session.callback_message
        ? el("p", { class: "sm-message", text: session.callback_message })
        : null,
      el("div", { class: "sm-card-actions" },
        // An SMS/WhatsApp client was told we will answer there (chat/reach_out.js).
        session.channel !== "web"
          ? el("button", { type: "button", class: "btn btn-secondary btn-small", text: "Message customer",
            "data-reach-out-session": String(session.id) })
          : null,
        // Offered while the client is online in the portal (client_online comes
        // with the snapshot and card updates; the server checks again).
        postTicket && session.client_online !== false
          ? el("button", { type: "button", class: "btn btn-secondary btn-small", text: "Push chat",
            title: "Invite the client to chat, if it is online in the portal",
            onclick: (e) => pushChat(session.ticket_id, e.currentTarget) })
          : null,
        el("button", { type: "button", class: "btn btn-small btn-primary", text: "End session",
          onclick: () => openFollowUpDialog(session) }))));
}

// The sessions by list: what the session manager and the workspace show.
function groupedSessions() {
  const groups = { queue: [], mine: [], others: [], abandoned: [], callbacks: [] };
  for (const session of sessions.values()) groups[section(session)]?.push(session);
  return groups;
}

function renderManager() {
  if (workspace) return workspace.refresh();
  if (!manager) return;
  const groups = groupedSessions();
  const oldestFirst = (a, b) => Date.parse(a.requested_at) - Date.parse(b.requested_at);
  groups.queue.sort(oldestFirst);
  groups.abandoned.sort(oldestFirst);
  groups.callbacks.sort(oldestFirst);
  const block = (key, title, rows, empty) =>
    el("section", { class: `sm-section sm-${key}`, "aria-labelledby": `sm-h-${key}` },
      el("h2", { id: `sm-h-${key}` }, title, el("span", { class: "sm-count", text: String(rows.length) })),
      rows.length ? el("ul", { class: "sm-list" }, ...rows) : el("p", { class: "muted sm-empty", text: empty }));
  // Nothing at all: one calm line instead of five empty lists. Otherwise the
  // queue (always: whether anyone waits is the news) and the lists that have
  // something.
  if (!Object.values(groups).some((rows) => rows.length)) {
    manager.querySelector("[data-sm-body]").replaceChildren(
      el("div", { class: "sm-idle" },
        el("p", { class: "sm-idle-title", text: "Nobody is waiting." }),
        el("p", { class: "muted", text: "Chat requests, your chats and follow-ups show here." })));
    return;
  }
  const lists = [
    block("queue", "Queue", groups.queue.map(queueRow), "Nobody is waiting."),
    groups.mine.length ? block("mine", "My chats", groups.mine.map((s) => chatRow(s, true))) : null,
    groups.others.length ? block("others", "Other chats", groups.others.map((s) => chatRow(s, false))) : null,
    groups.abandoned.length ? block("abandoned", "Abandoned", groups.abandoned.map(followUpCard)) : null,
    groups.callbacks.length ? block("callbacks", "Callbacks", groups.callbacks.map(followUpCard)) : null,
  ];
  manager.querySelector("[data-sm-body]").replaceChildren(...lists.filter(Boolean));
}

// Waiting times and the red state tick locally, without waiting for the server.
setInterval(() => {
  if (!manager) return;
  for (const row of manager.querySelectorAll(".sm-queue .sm-item")) {
    const waitedMs = now() - Date.parse(row.dataset.requestedAt);
    row.querySelector(".sm-wait").textContent = formatDuration(waitedMs);
    row.classList.toggle("overdue", row.dataset.warned === "1" || waitedMs >= warningSeconds * 1000);
  }
}, 1000);

// --- Chat request notifications ----------------------------------------------------------------
// A toast offering to Join a chat, one per chat in `toasts` (requestToasts or
// inviteToasts), until Join, Dismiss or the chat moves on.
function joinToast(toasts, session, { kind, title, text }) {
  toasts.set(session.id, actionToast({
    kind,
    attrs: { "data-session-id": String(session.id) },
    title,
    lines: [el("span", { text })],
    actions: [joinButton(session.id)],
    onDismiss: () => dropToast(toasts, session.id),
  }));
}

function dropToast(toasts, sessionId) {
  const item = toasts.get(sessionId);
  if (item) {
    item.remove();
    toasts.delete(sessionId);
  }
}

function requestToast(session) {
  if (requestToasts.has(session.id)) return;
  joinToast(requestToasts, session, {
    kind: "toast-request",
    title: "Chat request",
    text: `${session.client.name} (${session.company || "no company"}): ${session.title}`,
  });
}

function dropRequestToast(sessionId) {
  dropToast(requestToasts, sessionId);
}

// Another agent invites this one into a live chat: a toast like a request's,
// whose Join lets the invited agent into the answered chat (chat/services.py, session_join).
function inviteToast(session, invitedBy) {
  dropInviteToast(session.id);
  const from = invitedBy ? invitedBy.name : "An agent";
  joinToast(inviteToasts, session, {
    kind: "toast-request toast-invite",
    title: "Chat invitation",
    text: `${from} invites you to the chat with ${session.client.name}: ${session.title}`,
  });
}

function dropInviteToast(sessionId) {
  dropToast(inviteToasts, sessionId);
}

setInterval(() => {
  if (document.hidden && (requestToasts.size || inviteToasts.size)) chime();
}, SOUND_REPEAT_MS);

// The tab's title counts what waits for this agent (unread.js): requests and
// invitations offered, and chats with messages not read yet.
function waitingForMe() {
  let count = requestToasts.size + inviteToasts.size;
  for (const win of windows.values()) if (hasUnread(win.conversation, userId)) count += 1;
  return count;
}
setInterval(() => showCount(waitingForMe()), 500);

// --- Actions --------------------------------------------------------------------------------------
async function join(sessionId, button) {
  if (button) button.disabled = true;
  try {
    const state = await socket.request({ type: "chat.join", session_id: sessionId });
    dropRequestToast(sessionId);
    dropInviteToast(sessionId);
    if (!workspace) {
      // The chat is worked in the workspace, its ticket beside it.
      window.location.assign(`${workspaceUrl}?chat=${sessionId}`);
      return;
    }
    upsert(state.session);
    openWindow(state.session, { focus: true }).conversation.applyState(state);
  } catch (error) {
    dropRequestToast(sessionId);
    dropInviteToast(sessionId);
    note(error.code === "already_answered" ? "Another agent has already taken this chat." : error.message);
    if (error.code === "not_in_queue") {
      // Out of this agent's queues since the list was drawn: not its to take.
      sessions.delete(sessionId);
      renderManager();
    }
    if (button) button.disabled = false;
  }
}

function openWindow(session, { focus = false } = {}) {
  let win = windows.get(session.id);
  if (!win) {
    win = new ChatWindow(session.id, {
      userId,
      viewer: "agent",
      onClose: leave,
      clock: now,
      onRender: (w) => workspace && workspace.changed(w),
      // In the workspace a chat shows by being chosen in the list.
      onReveal: workspace ? (w) => workspace.select(w.id, { focus: true }) : null,
      menu: [...agentMenu(socket), linkContactItem(socket, { onLinked: (s) => upsert(s) }),
        templateMenuItem(socket)],
      onTemplate: openTemplateDialog,
      actions: [
        { label: "End chat", className: "btn-danger", when: (s) => s.status === "active", onClick: endChat },
        { label: "Leave", when: (s) => s.status !== "active" && s.status !== "waiting", onClick: leave },
        { label: "Transfer", when: (s) => s.status === "active", onClick: transferChat },
        blockChat,
      ],
    });
    win.setConnectionState(socket.state);
    attachComments(win);
    attachVisitorInfo(win); // after comments: it slots page views in between their rows too
    windows.set(session.id, win);
    if (!workspace) dock.append(win.root);
    win.conversation.applySession(session);
    if (workspace) workspace.adopt(win);
    win.conversation.sync().catch(() => {});
  } else {
    win.conversation.applySession(session);
  }
  if (workspace) {
    if (focus) workspace.select(win.id, { focus: true });
  } else {
    win.setMinimized(false);
    if (focus) win.input.focus();
  }
  renderManager();
  return win;
}

// A window goes (Leave, Transfer, the chat taken elsewhere). The focus, if
// it was in it, goes to the next chat, or to the list: never to nowhere.
function closeWindow(win) {
  const hadFocus = win.root.contains(document.activeElement);
  windows.delete(win.id);
  win.destroy();
  if (workspace) {
    workspace.forget(win, { hadFocus });
  } else if (hadFocus) {
    const next = [...windows.values()].pop();
    if (next) next.focusMain();
    else manager?.querySelector("summary")?.focus();
  }
}

// Transfer: the dialog offers who is available now; once the server moved the
// chat, this agent is out of it and its window closes.
function transferChat(win) {
  openTransferDialog(socket, win.conversation.session, {
    onDone: (session) => {
      closeWindow(win);
      upsert(session);
      note(`Transferred the chat with ${session.client.name} to ${agentNames(session)}.`, "info");
    },
  });
}

async function leave(win) {
  try {
    await socket.request({ type: "chat.leave", session_id: win.id });
  } catch (error) {
    if (error.code === "end_first") return note("End the chat before leaving it.");
    if (error.code !== "not_found") return note(error.message);
  }
  closeWindow(win);
  sessions.delete(win.id);
  renderManager();
}

const endDialog = buildEndDialog();

function buildEndDialog() {
  const subject = el("input", { type: "text", name: "subject", id: "end-subject", maxlength: "200" });
  const reason = el("textarea", { name: "reason", id: "end-reason", rows: "3" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const intro = el("p", { class: "end-intro" });
  // A chat without a ticket: a subject to create one, or a reason to close
  // without; laid out as the other dialogs are (fields, then the buttons).
  const preTicket = el("div", { class: "end-pre-ticket" },
    el("div", { class: "field" }, el("label", { for: "end-subject", text: "Subject" }), subject),
    el("div", { class: "field" },
      el("label", { for: "end-reason", text: "Reason, to close without a ticket" }), reason));
  const preTicketButtons = [
    el("button", { type: "submit", value: "close", class: "btn btn-secondary", text: "Close without ticket" }),
    el("button", { type: "submit", value: "create_ticket", class: "btn btn-primary", text: "Create ticket" }),
  ];
  const postTicket = el("button", { type: "submit", value: "attach", class: "btn btn-danger", text: "End chat" });
  const form = el("form", { method: "dialog" },
    el("h2", { text: "End chat" }), intro, error, preTicket,
    el("div", { class: "dialog-actions" },
      el("button", { type: "button", class: "btn btn-link", text: "Cancel", onclick: () => dialog.close() }),
      ...preTicketButtons, postTicket));
  const dialog = el("dialog", { class: "chat-end-dialog", "aria-label": "End chat" }, form);
  document.body.append(dialog);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const outcome = event.submitter ? event.submitter.value : "attach";
    const win = dialog.chatWindow;
    error.hidden = true;
    if (outcome === "close" && !reason.value.trim()) {
      error.textContent = "Say why the chat is closed without a ticket.";
      error.hidden = false;
      return;
    }
    try {
      const state = await socket.request({
        type: "chat.end", session_id: win.id, outcome,
        subject: subject.value, reason: reason.value,
      });
      win.conversation.applyState(state);
      upsert(state.session);
      dialog.close();
      // End chat is gone from the toolbar: Leave, its successor, takes the focus.
      win.focusMain();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  return { dialog, subject, reason, error, intro, preTicket, preTicketButtons, postTicket };
}

function endChat(win) {
  const session = win.conversation.session;
  const { dialog, subject, reason, error, intro, preTicket, preTicketButtons, postTicket } = endDialog;
  const pre = session.kind === "pre_ticket";
  dialog.chatWindow = win;
  error.hidden = true;
  preTicket.hidden = !pre;
  for (const button of preTicketButtons) button.hidden = !pre;
  postTicket.hidden = pre;
  subject.value = session.subject || "";
  reason.value = "";
  intro.textContent = pre
    ? "This chat has no ticket yet. Create one with the transcript attached, or close it with a reason."
    : `The transcript will be attached to ticket #${session.ticket_id}. The client can no longer send messages.`;
  openModal(dialog);
}

// --- Socket wiring -----------------------------------------------------------------------------------
async function restore() {
  try {
    const snapshot = await socket.request({ type: "chat.snapshot" });
    if (snapshot.now) clockOffset = Date.parse(snapshot.now) - Date.now();
    queueIds = Array.isArray(snapshot.queue_ids) ? new Set(snapshot.queue_ids) : null;
    // Windows open before this (re)connect replay what they missed; new
    // windows sync as they open.
    const reopened = [...windows.values()];
    sessions.clear();
    for (const name of ["queue", "mine", "others", "abandoned", "callbacks"]) {
      for (const session of snapshot[name] || []) upsert(session, { render: false });
    }
    // Once, and also when every list is empty ("Connecting…" until now).
    renderManager();
    for (const session of snapshot.mine) {
      if (session.status !== "invited" || windows.has(session.id)) openWindow(session);
    }
    for (const win of reopened) win.conversation.sync().catch(() => {});
    // Invitations still open (e.g. after a reload) show again, without a sound.
    const invitations = await socket.request({ type: "chat.invitations" });
    for (const item of invitations.invitations || []) {
      if (!inRoom(item.session)) inviteToast(item.session, item.invited_by);
    }
  } catch (error) {
    console.warn("restoring the session manager failed", error);
  }
}

socket.on("hello", restore);
// presence.js may have opened the socket before this module ran.
if (socket.state === "open") restore();
// An administrator changed this agent's queues: list what they hold now.
socket.on("chat.queues_changed", restore);
socket.onState((state) => {
  for (const win of windows.values()) win.setConnectionState(state);
  if (manager) manager.dataset.connection = state;
});
socket.on("chat.invitation", (frame) => {
  inviteToast(frame.session, frame.invited_by);
  chime();
  const from = frame.invited_by ? frame.invited_by.name : "An agent";
  showNotification("Chat invitation", `${from}: ${frame.session.client.name}, ${frame.session.title}`, `chat-invite-${frame.session.id}`);
});
socket.on("chat.incoming", (frame) => {
  upsert(frame.session);
  requestToast(frame.session);
  chime();
  showNotification("Chat request", `${frame.session.client.name}: ${frame.session.title}`, `chat-${frame.session.id}`);
});
// A timer sweep sends the chats it changed together (`sessions`, up to a few
// hundred): update them all, then draw the session manager once.
for (const type of ["queue.added", "queue.updated", "queue.ended", "queue.abandoned"]) {
  socket.on(type, (frame) => {
    if (!frame.sessions) return upsert(frame.session);
    for (const session of frame.sessions) upsert(session, { render: false });
    renderManager();
  });
}
socket.on("queue.taken", (frame) => {
  const hadToast = requestToasts.has(frame.session.id);
  upsert(frame.session);
  if (hadToast && frame.taken_by && frame.taken_by.id !== userId) {
    note(`${frame.taken_by.name} took the chat with ${frame.session.client.name}.`, "info");
  }
});
socket.on("chat.session", (frame) => upsert(frame.session));
// A ticket changed (tickets_live.js keeps the ticket pages): the workspace's
// context pane shows the chat's ticket.
socket.on("ticket.changed", (frame) => { if (workspace) workspace.ticketChanged(frame.ticket.id); });
socket.on("chat.transferred", (frame) => {
  const { session, by, reason } = frame;
  upsert(session);
  // The dock shows it at once; the workspace lists it, and the agent chooses when.
  openWindow(session, { focus: !workspace });
  const why = reason ? `: ${reason}` : ".";
  note(`${by.name} handed you the chat with ${session.client.name}${why}`, "info");
  chime();
  showNotification("Chat transferred to you", `${session.client.name}: ${session.title}`, `chat-${session.id}`);
});
// A client came to the portal or left it: abandoned cards offer Push chat only
// while it is there.
socket.on("client.presence", (frame) => {
  let changed = false;
  for (const session of sessions.values()) {
    if (session.client.id === frame.user_id && session.client_online !== frame.online) {
      session.client_online = frame.online;
      changed = true;
    }
  }
  if (changed) renderManager();
});
// Requests waited past the warning: available supervisors are told.
socket.on("chat.warning", (frame) => {
  for (const session of frame.sessions || []) {
    if (session.status !== "waiting") continue;
    note(`${session.client.name} has waited ${warningSeconds} s: ${session.title}`, "warning");
  }
});
// Staff-only comments in the windows, and toasts for @mentions.
installComments({ socket, userId, windows });
// Visitor info and the client's page views (staff only).
installVisitorInfo({ socket, windows });
socket.on("chat.message", (frame) => {
  const win = windows.get(frame.message.session_id);
  if (win) win.conversation.ingest(frame.message);
});
socket.on("chat.subscribed", async (frame) => {
  const win = windows.get(frame.session_id);
  if (win) win.conversation.sync().catch(() => {});
});
// chat.read and chat.typing are handled by each window's Conversation.

// Notifications need a user gesture in most browsers: ask on the first click.
document.addEventListener("click", askNotificationPermission, { once: true });
// So does sound: the chime is unlocked by the first click or key press.
unlockAudioOnFirstGesture();
installMuteToggle();

// --- Push chat (from a ticket page, or from an abandoned card) -----------------------------------------
async function pushChat(ticketId, button) {
  if (button) button.disabled = true;
  try {
    const state = await socket.request({ type: "chat.push", ticket_id: Number(ticketId) });
    upsert(state.session);
    openWindow(state.session, { focus: true }).conversation.applyState(state);
  } catch (error) {
    note(error.message);
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

for (const button of document.querySelectorAll("[data-chat-push-ticket]")) {
  button.addEventListener("click", () => pushChat(button.dataset.chatPushTicket, button));
}

// --- Message customer (a closed chat, a ticket page, a phone follow-up card) --------------------
installReachOut({
  socket,
  onStarted: (state, option) => {
    upsert(state.session);
    openWindow(state.session, { focus: true }).conversation.applyState(state);
    note(`Sent to ${state.session.client.name} by ${option.label}.`, "info");
  },
});

// --- End session on a follow-up card ---------------------------------------------------------------------
// [value, label] of chat.models.Outcome (data-outcomes, templates/chat/_console.html).
const OUTCOMES = dataJson(manager, "outcomes", []);

const followUpDialog = buildFollowUpDialog();

function buildFollowUpDialog() {
  const outcome = el("select", { id: "followup-outcome", name: "outcome", required: true },
    el("option", { value: "", text: "Choose…" }),
    ...OUTCOMES.map(([value, label]) => el("option", { value, text: label })));
  const noteField = el("textarea", { id: "followup-note", name: "note", rows: "3", maxlength: "10000" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const intro = el("p", { class: "followup-intro" });
  const submit = el("button", { type: "submit", class: "btn btn-primary", text: "End session" });
  const form = el("form", { method: "dialog", novalidate: true },
    el("h2", { id: "followup-title", text: "End session" }), intro, error,
    el("div", { class: "field" }, el("label", { for: "followup-outcome", text: "Outcome" }), outcome),
    el("div", { class: "field" }, el("label", { for: "followup-note", text: "Note" }), noteField),
    el("div", { class: "dialog-actions" },
      el("button", { type: "button", class: "btn btn-link", text: "Cancel", onclick: () => dialog.close() }),
      submit));
  const dialog = el("dialog", { class: "chat-followup-dialog", "aria-labelledby": "followup-title" }, form);
  document.body.append(dialog);
  outcome.addEventListener("change", () => { error.hidden = true; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!outcome.value) {
      error.textContent = "Choose how the request was resolved.";
      error.hidden = false;
      outcome.focus();
      return;
    }
    submit.disabled = true;
    try {
      const state = await socket.request({
        type: "chat.close_followup", session_id: dialog.sessionId,
        outcome: outcome.value, note: noteField.value,
      });
      upsert(state.session);
      dialog.close();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return { dialog, outcome, noteField, error, intro };
}

function openFollowUpDialog(session) {
  const { dialog, outcome, noteField, error, intro } = followUpDialog;
  dialog.sessionId = session.id;
  error.hidden = true;
  outcome.value = session.status === "callback" ? "resolved_phone" : "";
  noteField.value = "";
  const what = session.status === "callback"
    ? `Callback for ${session.client.name} (${session.callback_phone})`
    : `Request of ${session.client.name}`;
  intro.textContent = `${what}: “${session.title}”. `
    + (session.ticket_id ? `The outcome is noted on ticket #${session.ticket_id}.` : "");
  openModal(dialog, { first: outcome });
}

// --- Keyboard shortcuts (shortcuts.js; the "?" dialog lists them) -----------------------------------------
installShortcuts({
  next: () => chats.step(1),
  previous: () => chats.step(-1),
  composer: () => chats.focusComposer(),
  // The chat's own End chat button: the same dialog, and nothing when the chat is not live.
  end: () => {
    const win = chats.current();
    const button = win && win.toolbarButton("End chat");
    if (button) button.click();
    else if (win) win.showError("Only a live chat can be ended.");
  },
  menu: () => {
    const win = chats.current();
    if (win && win.menuButton) win.menuButton.open();
  },
  queue: () => chats.focusQueue(),
});
