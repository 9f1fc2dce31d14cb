// Staff-only comments in the console's chat windows (supervisors and the
// agents in a chat write them; the client never receives one: the server
// sends them to staff sockets only). Comments are shown between the messages
// by time, styled as internal; a comment that mentions you raises a toast and
// a browser notification even when you are not in the chat.
//
//   installComments({ socket, userId, windows })  // once, from console.js
//   attachComments(win)                           // for each new ChatWindow

import { dataJson, el } from "../dom.js";
import { actionToast } from "../toasts.js";
import { newClientId } from "./conversation.js";
import { commentRow } from "./log_rows.js";
import { chime, showNotification } from "./notify.js";

let socketRef = null;
let myId = 0;
let windowsRef = null;
const attached = new Set();

// The statuses of a live chat (chat.models.OPEN_STATUSES; data-open-statuses
// of the session manager, templates/chat/_console.html): staff comment in those only.
const LIVE = dataJson(document.getElementById("session-manager"), "openStatuses", []);

// Rows of the window's messages (same order as `messages`) with the comments
// slotted in by time: each before the first message written after it.
function interleave(win) {
  return (rows, messages) => {
    // Called on every render: comments are for live chats only.
    const session = win.conversation.session;
    if (win.commentBox && session) win.commentBox.hidden = !LIVE.includes(session.status);
    if (!win.comments.size) return rows;
    const comments = [...win.comments.values()].sort(
      (a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
    const out = [];
    let c = 0;
    // Each comment's row is built once (the log appends: log_view.js).
    const row = (comment) => win.logRows.row(`c${comment.id}`, () => commentRow(comment));
    messages.forEach((message, index) => {
      const at = Date.parse(message.created_at);
      while (c < comments.length && Date.parse(comments[c].created_at) < at) out.push(row(comments[c++]));
      out.push(rows[index]);
    });
    while (c < comments.length) out.push(row(comments[c++]));
    // Rows past the messages (pending sends, the end-of-chat line) stay last.
    for (let i = messages.length; i < rows.length; i++) out.push(rows[i]);
    return out;
  };
}

async function loadComments(win) {
  try {
    const reply = await socketRef.request({ type: "chat.comments", session_id: win.id });
    for (const comment of reply.comments || []) win.comments.set(comment.id, comment);
    win.render();
  } catch {
    // Not in the room (yet): nothing to show.
  }
}

function commentBox(win) {
  const inputId = `chat-comment-${win.id}-${Math.random().toString(36).slice(2, 8)}`;
  const input = el("textarea", { id: inputId, class: "chat-comment-input", rows: "2", maxlength: "10000",
    placeholder: "Only staff see this; @name notifies someone" });
  const error = el("p", { class: "chat-comment-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "btn btn-small", text: "Add comment" });
  // One id per comment, kept until it is posted: a try whose answer was lost
  // to a dropped connection and is sent again does not post it twice.
  let clientId = newClientId();
  const form = el("form", { class: "chat-comment-form", onsubmit: async (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    submit.disabled = true;
    error.hidden = true;
    try {
      const reply = await socketRef.request({ type: "chat.comment", session_id: win.id, body, client_id: clientId });
      clientId = newClientId();
      win.comments.set(reply.comment.id, reply.comment);
      input.value = "";
      box.open = false;
      win.render();
    } catch (err) {
      error.textContent = err.message || err.code;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  } },
  el("label", { for: inputId, class: "visually-hidden-label", text: "Internal comment" }), input, error, submit);
  const box = el("details", { class: "chat-comment-box" }, el("summary", { text: "Internal comment" }), form);
  return box;
}

export function attachComments(win) {
  if (win.comments) return;
  win.comments = new Map();
  win.interleave = interleave(win);
  win.commentBox = commentBox(win);
  if (win.form && win.form.parentNode) win.form.parentNode.insertBefore(win.commentBox, win.form);
  attached.add(win);
  loadComments(win);
}

const MENTION_TOAST_MS = 30000;

function mentionToast(frame) {
  const { comment } = frame;
  const author = comment.author ? comment.author.name : "Someone";
  const win = windowsRef && windowsRef.get(frame.session_id);
  const isSupervisor = ["supervisor", "administrator"].includes(document.body.dataset.role);
  const item = actionToast({
    kind: "toast-mention",
    attrs: { "data-comment-id": String(comment.id) },
    title: `${author} mentioned you`,
    lines: [
      el("span", { class: "toast-context", text: frame.title || `Chat ${frame.session_id}` }),
      el("span", { class: "toast-quote", text: comment.body }),
    ],
    actions: [
      win
        ? el("button", { type: "button", class: "btn btn-primary btn-small", text: "Show chat",
          onclick: () => { win.reveal(); item.remove(); } })
        : isSupervisor
          ? el("a", { class: "btn btn-primary btn-small", href: `/console/supervisor/?watch=${frame.session_id}`, text: "Watch" })
          : null,
    ],
    timeout: MENTION_TOAST_MS,
  });
  chime();
  showNotification(`${author} mentioned you`, comment.body, `comment-${comment.id}`);
}

export function installComments({ socket, userId, windows }) {
  socketRef = socket;
  myId = userId;
  windowsRef = windows;
  const seen = new Set();
  socket.on("chat.comment", (frame) => {
    const { comment } = frame;
    const win = windows.get(frame.session_id);
    if (win && win.comments) {
      win.comments.set(comment.id, comment);
      win.render();
    }
    // One toast per comment, however many groups it came through.
    const mentioned = (comment.mentions || []).some((u) => u.id === myId);
    const mine = comment.author && comment.author.id === myId;
    if (mentioned && !mine && !seen.has(comment.id)) {
      seen.add(comment.id);
      mentionToast(frame);
    }
  });
  socket.on("hello", () => {
    for (const win of [...attached]) {
      if (!win.root.isConnected) attached.delete(win);
      else loadComments(win);
    }
  });
  // The agent just joined (or was invited into) a chat: its comments so far.
  socket.on("chat.subscribed", (frame) => {
    const win = windows.get(frame.session_id);
    if (win && win.comments) loadComments(win);
  });
}
