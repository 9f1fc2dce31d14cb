// Client portal: Join chat / Start a chat, the chat dialog, and push-chat
// invitations. Loaded on every portal page so the client counts as online.

import { focusOrPageHeading, openModal } from "../dialogs.js";
import { el } from "../dom.js";
import { getSocket } from "../socket.js";
import { messageToast } from "../toasts.js";
import { ChatWindow } from "./chat_window.js";
import { ClientFollowUp } from "./follow_up.js";
import { reportPageView } from "./page_views.js";
import { askNotificationPermission, showNotification } from "./notify.js";

const socket = getSocket();
const userId = Number(document.body.dataset.userId || 0);
const dock = document.getElementById("chat-dock");
const windows = new Map(); // session id -> ChatWindow
const invitations = new Map(); // session id -> dialog element
// After this long without a message the client may end the chat itself (Lifecycle 8).
const inactivitySeconds = Number((dock && dock.dataset.inactivitySeconds) || 3600);
let clockOffset = 0; // server time minus browser time, from the snapshot
const now = () => Date.now() + clockOffset;

const TOAST_MS = 10000;

// A refusal from the server, as a toast (an alert where the page has no toasts box).
function toast(message) {
  messageToast(message, { timeout: TOAST_MS });
}

// The last sign of life in a chat: the session's stamp, or a newer message
// (messages do not resend the session).
function lastActivity(win) {
  const { session, messages, lastSeq } = win.conversation;
  const newest = messages.get(lastSeq);
  const last = newest ? Date.parse(newest.created_at) : 0;
  return Math.max(Date.parse(session.last_activity_at || session.requested_at), last);
}

function mayEnd(session, win) {
  if (session.status !== "active") return false;
  const since = lastActivity(win);
  // The server's inactivity flag, unless a message came after it.
  if (session.inactive_at && since <= Date.parse(session.inactive_at)) return true;
  return now() - since >= inactivitySeconds * 1000;
}

async function endChat(win) {
  win.clearError();
  try {
    const state = await socket.request({ type: "chat.end", session_id: win.id });
    win.conversation.applyState(state);
  } catch (error) {
    win.showError(error.message || "The chat could not be ended.");
  }
}

function openWindow(session) {
  let win = windows.get(session.id);
  if (!win) {
    win = new ChatWindow(session.id, {
      userId,
      viewer: "client",
      onClose: leave,
      clock: now,
      panel: new ClientFollowUp({ socket, onEnd: (w) => leave(w, { ask: false }) }),
      actions: [{ label: "End chat", className: "btn-danger", when: mayEnd, onClick: endChat }],
    });
    win.setConnectionState(socket.state);
    windows.set(session.id, win);
    dock.append(win.root);
  }
  win.conversation.applySession(session);
  return win;
}

async function leave(win, { ask = true } = {}) {
  const session = win.conversation.session;
  if (ask && session && session.status === "waiting"
      && !window.confirm("Cancel your chat request? Nobody has answered yet.")) return;
  try {
    await socket.request({ type: "chat.leave", session_id: win.id });
  } catch (error) {
    if (error.code !== "not_found") return toast(error.message);
  }
  const hadFocus = win.root.contains(document.activeElement);
  windows.delete(win.id);
  win.destroy();
  if (hadFocus) focusAfterChat();
}

// The chat window is gone: the focus goes back to where chats start (Join
// chat, Start a chat), else to the page's heading; never to nowhere.
function focusAfterChat() {
  focusOrPageHeading(
    ...document.querySelectorAll("[data-chat-join-ticket], [data-chat-join-session], [data-chat-start]"),
  );
}

// showError: where a refusal is said (a toast, or the open Start a chat dialog,
// whose backdrop would hide a toast). Returns the chat's window, or null.
async function request(frame, button, showError = toast) {
  // Asked now, in the click that asks for a chat (browsers allow the question
  // only in a gesture): an agent's reply or an invitation while this tab is
  // hidden then shows as a notification.
  askNotificationPermission();
  if (button) button.disabled = true;
  try {
    const state = await socket.request(frame);
    const win = openWindow(state.session);
    win.conversation.applyState(state);
    // Into the chat: its log while nobody has answered (the Message box
    // takes the focus when an agent joins), else the Message box.
    win.focusMain();
    reportPageView(socket, [state.session]); // the page the chat was asked from
    return win;
  } catch (error) {
    showError(error.message || "The chat could not be started.");
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}

// --- Invitations (push chat) ----------------------------------------------------------
function showInvitation(session) {
  if (invitations.has(session.id) || windows.has(session.id)) return;
  const agent = session.participants.find((p) => p.role === "agent");
  const who = agent ? agent.user.name : "An engineer";
  const answer = async (accept, button) => {
    button.disabled = true;
    let win = null;
    try {
      const reply = await socket.request({ type: accept ? "chat.accept" : "chat.decline", session_id: session.id });
      if (accept) {
        win = openWindow(reply.session);
        win.conversation.applyState(reply);
        reportPageView(socket, [reply.session]);
      }
    } catch (error) {
      toast(error.message);
    }
    closeInvitation(session.id);
    // Accepted: straight into the Message box (closing the dialog gave the
    // focus back to where it was before it opened).
    if (win) win.focusMain();
  };
  const acceptButton = el("button", { type: "button", class: "btn btn-primary", text: "Accept",
    onclick: (e) => answer(true, e.currentTarget) });
  const declineButton = el("button", { type: "button", class: "btn", text: "Decline",
    onclick: (e) => answer(false, e.currentTarget) });
  const dialog = el("dialog", { class: "chat-invitation", "aria-labelledby": `invite-${session.id}` },
    el("h2", { id: `invite-${session.id}`, text: "Chat request" }),
    el("p", { text: `${who} would like to chat with you about “${session.title}”.` }),
    el("div", { class: "dialog-actions" }, acceptButton, declineButton));
  // The client must answer: Escape does not dismiss it.
  dialog.addEventListener("cancel", (event) => event.preventDefault());
  document.body.append(dialog);
  openModal(dialog);
  invitations.set(session.id, dialog);
  showNotification("Chat request", `${who} would like to chat with you.`, `invite-${session.id}`);
}

function closeInvitation(sessionId) {
  const dialog = invitations.get(sessionId);
  if (dialog) {
    dialog.close();
    dialog.remove();
    invitations.delete(sessionId);
  }
}

// --- Socket wiring ---------------------------------------------------------------------
async function restore() {
  try {
    const snapshot = await socket.request({ type: "chat.snapshot" });
    if (snapshot.now) clockOffset = Date.parse(snapshot.now) - Date.now();
    for (const session of snapshot.mine) {
      if (session.status === "invited") showInvitation(session);
      else openWindow(session);
    }
    await Promise.all([...windows.values()].map((win) => win.conversation.sync().catch(() => {})));
    // Where the client is now, for the agents of its open chats (staff only).
    reportPageView(socket, [...windows.values()].map((win) => win.conversation.session));
  } catch (error) {
    console.warn("restoring chats failed", error);
  }
}

socket.on("hello", restore);
// presence.js may have opened the socket before this module ran.
if (socket.state === "open") restore();
socket.onState((state) => {
  for (const win of windows.values()) win.setConnectionState(state);
});
socket.on("chat.message", (frame) => {
  const message = frame.message;
  const win = windows.get(message.session_id);
  if (!win) return;
  const isNew = message.seq > win.conversation.lastSeq;
  win.conversation.ingest(message);
  // An agent's message while the client looks elsewhere (another tab).
  if (isNew && document.hidden && message.author && message.author.role !== "client"
      && (message.kind === "text" || message.kind === "file")) {
    const body = message.kind === "file" ? `Sent a file: ${message.body}` : message.body;
    showNotification(`${message.author.name} wrote`, body, `chat-${message.session_id}-${message.seq}`);
  }
});
socket.on("chat.session", (frame) => {
  const session = frame.session;
  const win = windows.get(session.id);
  if (win) win.conversation.applySession(session);
  if (session.status !== "invited") closeInvitation(session.id);
});
socket.on("chat.subscribed", (frame) => {
  const win = windows.get(frame.session_id);
  if (win) win.conversation.sync().catch(() => {});
});
socket.on("chat.invited", (frame) => showInvitation(frame.session));
// chat.read and chat.typing are handled by each window's Conversation.

// --- Buttons on the pages ------------------------------------------------------------------
for (const button of document.querySelectorAll("[data-chat-join-ticket]")) {
  button.addEventListener("click", () =>
    request({ type: "chat.request", kind: "post_ticket", ticket_id: Number(button.dataset.chatJoinTicket) }, button));
}

// The portal's home: Join chat on a chat an engineer started by email
// (Message customer). Once in, it is a chat like any other: the entry goes.
for (const button of document.querySelectorAll("[data-chat-join-session]")) {
  button.addEventListener("click", async () => {
    const win = await request({ type: "chat.enter", session_id: Number(button.dataset.chatJoinSession) }, button);
    if (!win) return;
    const list = button.closest("ul");
    button.closest("li").remove();
    if (list && !list.children.length) list.closest("section").remove();
  });
}

const startDialog = document.getElementById("chat-start-dialog");
if (startDialog) {
  const form = startDialog.querySelector("form");
  const subject = form.querySelector("[name=subject]");
  const error = form.querySelector("[data-error]");
  for (const button of document.querySelectorAll("[data-chat-start]")) {
    button.addEventListener("click", () => {
      error.hidden = true;
      openModal(startDialog, { first: subject });
    });
  }
  form.querySelector("[data-cancel]").addEventListener("click", () => startDialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!subject.value.trim()) {
      error.textContent = "Tell us what the chat is about.";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    const win = await request({ type: "chat.request", kind: "pre_ticket", subject: subject.value.trim() },
      form.querySelector("[type=submit]"), (message) => {
        error.textContent = message;
        error.hidden = false;
      });
    if (win) {
      subject.value = "";
      startDialog.close();
      // Closing gave the focus back to Start a chat: it belongs in the chat.
      win.focusMain();
    }
  });
}
