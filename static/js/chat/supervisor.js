// Supervisor console (/console/supervisor/): the live numbers on every tab,
// and on the Chats tab the open chats grouped by agent, the waiting queue and
// the watch panel (a live chat read-only, with staff-only comments and the
// client's page views, as the agents in the room see them).
//
// State comes from the server: a supervisor.snapshot on every (re)connect and
// again (debounced) after any queue.*, presence.changed or chat.session event,
// plus a slow poll for changes no staff event announces. Waiting times tick
// here from timestamps. Everything people typed goes in with textContent;
// a message's body_html is the server's sanitized markdown.

import { dataJson, el } from "../dom.js";
import { getSocket } from "../socket.js";
import { Conversation, newClientId } from "./conversation.js";
import { channelBadge } from "./channels.js";
import { formatDuration } from "./format.js";
import { commentRow, messageRow, pageViewRow } from "./log_rows.js";
import { KeyedRows } from "./log_view.js";
import { openTransferDialog } from "./transfer.js";

const socket = getSocket();
const numbers = document.getElementById("sv-numbers");
const chatsTab = document.getElementById("sv-chats");
const watchPanel = document.getElementById("sv-watch");
const connectionEl = document.getElementById("sv-connection");
const REFRESH_DEBOUNCE_MS = 400;
const POLL_MS = 15000;

let snapshot = null;
let clockOffset = 0;
let refreshTimer = null;
const now = () => Date.now() + clockOffset;

// --- Snapshot ---------------------------------------------------------------------------------
async function loadSnapshot() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
  try {
    snapshot = await socket.request({ type: "supervisor.snapshot" });
    if (snapshot.now) clockOffset = Date.parse(snapshot.now) - Date.now();
    render();
  } catch (error) {
    console.warn("supervisor snapshot failed", error);
  }
}

function refreshSoon() {
  if (refreshTimer || socket.state !== "open") return;
  refreshTimer = setTimeout(loadSnapshot, REFRESH_DEBOUNCE_MS);
}

function render() {
  renderNumbers();
  if (chatsTab) renderChats();
}

// --- Live numbers -------------------------------------------------------------------------------
function setNumber(name, value, sub, { alert = false } = {}) {
  const box = numbers && numbers.querySelector(`[data-number="${name}"]`);
  if (!box) return;
  box.querySelector("[data-value]").textContent = value;
  if (sub != null) box.querySelector("[data-sub]").textContent = sub;
  box.classList.toggle("alert", alert);
}

function longestWaitMs() {
  if (!snapshot || !snapshot.waiting.length) return 0;
  return Math.max(...snapshot.waiting.map((s) => now() - Date.parse(s.requested_at)));
}

function renderNumbers() {
  if (!snapshot) return;
  const waiting = snapshot.waiting.length;
  const warnMs = (snapshot.warning_seconds || 30) * 1000;
  const longest = longestWaitMs();
  setNumber("waiting", String(waiting), waiting === 1 ? "request in the queue" : "requests in the queue",
    { alert: waiting > 0 && longest >= warnMs });
  setNumber("longest", waiting ? formatDuration(longest) : "–", waiting ? "oldest request" : "nobody waiting",
    { alert: waiting > 0 && longest >= warnMs });
  const staff = snapshot.agents;
  const available = staff.filter((a) => a.available);
  const online = staff.filter((a) => a.status !== "offline");
  setNumber("available", String(available.length), `${online.length} online of ${staff.length} staff`,
    { alert: waiting > 0 && available.length === 0 });
  // Load on the people working: chats ÷ staff who are available or in a chat.
  const working = staff.filter((a) => a.available || a.open_chats > 0);
  const total = working.reduce((sum, a) => sum + a.open_chats, 0);
  const max = working.reduce((m, a) => Math.max(m, a.open_chats), 0);
  setNumber("per-agent", working.length ? (total / working.length).toFixed(1) : "0",
    working.length ? `${total} in chats · busiest ${max}` : "nobody working");
  const count = document.querySelector("[data-chats-count]");
  if (count) count.textContent = String(snapshot.chats.length);
}

setInterval(() => {
  if (!snapshot) return;
  renderNumbers();
  if (!chatsTab) return;
  const warnMs = (snapshot.warning_seconds || 30) * 1000;
  for (const node of chatsTab.querySelectorAll("[data-since]")) {
    const waited = now() - Date.parse(node.dataset.since);
    node.textContent = formatDuration(waited);
    const row = node.closest(".sv-wait-row");
    if (row) row.classList.toggle("overdue", waited >= warnMs);
  }
}, 1000);

// --- Chats tab --------------------------------------------------------------------------------------
// The labels of presence.models.PresenceStatus (data-presence-labels, templates/chat/supervisor.html).
const STATUS_LABEL = dataJson(chatsTab, "presenceLabels", {});

// Its name starts with the words on it ("Watching chat: ..."), as WCAG 2.5.3 asks: a
// speech user says what they see.
function watchButton(session) {
  const watching = watch.id === session.id;
  return el("button", {
    type: "button",
    class: `btn btn-small${watching ? " btn-primary" : ""}`,
    "aria-pressed": watching ? "true" : "false",
    onclick: () => startWatching(session.id),
  }, watching ? "Watching" : "Watch",
  el("span", { class: "visually-hidden-label", text: ` chat: ${session.title}` }));
}

// Assign: place a waiting request or a live chat with an available agent (or
// a queue's least busy one); the page re-reads itself on the queue.updated
// that follows.
function assignButton(session) {
  return el("button", {
    type: "button",
    class: "btn btn-small",
    "aria-label": `Assign chat: ${session.title}`,
    text: "Assign",
    onclick: () => openTransferDialog(socket, session, { assign: true }),
  });
}

function chatItem(session) {
  const since = session.answered_at || session.requested_at;
  const others = session.participants.filter((p) => p.role === "agent" && p.in_room).map((p) => p.user.name);
  return el("li", { class: `sv-chat${watch.id === session.id ? " watching" : ""}`, "data-session-id": String(session.id) },
    el("div", { class: "sv-chat-main" },
      el("strong", { class: "sv-chat-title", text: session.title }),
      el("span", { class: "sv-chat-sub muted" }, channelBadge(session),
        `${session.client.name}${session.company ? ` · ${session.company}` : ""}${others.length > 1 ? ` · with ${others.join(", ")}` : ""}`)),
    el("span", { class: "sv-chat-time muted", title: session.status === "invited" ? "Invited" : "Chatting for" },
      el("span", { "data-since": since, text: formatDuration(now() - Date.parse(since)) })),
    el("span", { class: "sv-chat-actions" },
      session.status === "active" ? assignButton(session) : null,
      watchButton(session)));
}

function agentCard(agent, chats) {
  return el("section", { class: `sv-agent status-${agent.status}`, "data-agent-id": String(agent.id),
    "aria-label": `${agent.name}: ${chats.length} open chats` },
    el("header", { class: "sv-agent-head" },
      el("span", { class: `sv-dot ${agent.available ? "available" : agent.status}`, "aria-hidden": "true" }),
      el("strong", { class: "sv-agent-name", text: agent.name }),
      el("span", { class: "muted sv-agent-status", text: agent.available ? "Available" : (STATUS_LABEL[agent.status] || agent.status) }),
      el("span", { class: "count sv-agent-count", title: "Open chats", text: String(chats.length) })),
    chats.length
      ? el("ul", { class: "sv-chat-list" }, ...chats.map(chatItem))
      : el("p", { class: "muted sv-none", text: "No open chats." }));
}

function renderChats() {
  const byId = new Map(snapshot.chats.map((s) => [s.id, s]));
  const cards = [];
  for (const agent of snapshot.agents) {
    const chats = agent.chat_ids.map((id) => byId.get(id)).filter(Boolean);
    // Offline staff with nothing open are noise here.
    if (!chats.length && agent.status === "offline") continue;
    cards.push(agentCard(agent, chats));
  }
  const unattended = snapshot.unattended.map((id) => byId.get(id)).filter(Boolean);
  if (unattended.length) {
    cards.unshift(agentCard({ id: 0, name: "No agent in the room", status: "offline", available: false }, unattended));
  }
  chatsTab.querySelector("[data-sv-agents]").replaceChildren(
    ...(cards.length ? cards : [el("p", { class: "muted card empty", text: "No agents online and no open chats." })]),
  );
  const warnMs = (snapshot.warning_seconds || 30) * 1000;
  const waiting = [...snapshot.waiting].sort((a, b) => Date.parse(a.requested_at) - Date.parse(b.requested_at));
  chatsTab.querySelector("[data-queue-count]").textContent = String(waiting.length);
  chatsTab.querySelector("[data-sv-waiting]").replaceChildren(
    waiting.length
      ? el("ul", { class: "sv-chat-list" }, ...waiting.map((s) => {
        const waited = now() - Date.parse(s.requested_at);
        return el("li", { class: `sv-chat sv-wait-row${waited >= warnMs || s.warned_at ? " overdue" : ""}`, "data-session-id": String(s.id) },
          el("div", { class: "sv-chat-main" },
            el("strong", { class: "sv-chat-title", text: s.title }),
            el("span", { class: "sv-chat-sub muted" }, channelBadge(s),
              `${s.client.name}${s.company ? ` · ${s.company}` : ""}`)),
          el("span", { class: "sv-chat-time", title: "Waiting" },
            el("span", { "data-since": s.requested_at, text: formatDuration(waited) })),
          el("span", { class: "sv-chat-actions" }, assignButton(s), watchButton(s)));
      }))
      : el("p", { class: "muted", text: "Nobody is waiting." }),
  );
}

// --- Watching a chat ----------------------------------------------------------------------------------
// The chat's messages are a read-only Conversation's (conversation.js): kept
// by seq, duplicates dropped, gaps fetched with chat.history, replayed with
// chat.watch after a reconnect; it sends no chat.send and no chat.read. The
// staff comments and the client's page views are the panel's own.
let watchParts = null; // the watch panel's elements, while it is shown
const userId = Number(document.body.dataset.userId || 0);

const watch = {
  id: null,
  conversation: null, // the chat watched (read-only Conversation)
  comments: new Map(), // id -> comment
  pageViews: new Map(), // id -> page view (chat.visitor, then chat.page_viewed)
};

function resetWatch(id) {
  if (watch.conversation) watch.conversation.close();
  watch.id = id;
  watch.conversation = id ? watchConversation(id) : null;
  watch.comments = new Map();
  watch.pageViews = new Map();
}

function watchConversation(id) {
  const conversation = new Conversation(id, {
    userId,
    readOnly: true,
    // Typing and read receipts show nowhere in the panel; a chat no longer
    // watched (its answer came late) draws nothing.
    onChange: (what) => {
      if (conversation === watch.conversation && (what === "session" || what === "messages")) renderWatch();
    },
  });
  return conversation;
}

async function startWatching(sessionId) {
  if (!watchPanel) return;
  if (watch.id && watch.id !== sessionId) await stopWatching({ quiet: true });
  // Re-watching the same chat (after a reconnect) keeps the panel and what
  // was typed in it, and replays only what was missed.
  if (watch.id !== sessionId || !watchParts) {
    resetWatch(sessionId);
    buildWatchPanel();
  }
  watchPanel.hidden = false;
  watchError("");
  const { conversation } = watch;
  try {
    const state = await conversation.sync(); // chat.watch -> chat.watching
    if (conversation === watch.conversation) {
      for (const comment of state.comments || []) watch.comments.set(comment.id, comment);
      renderWatch();
    }
  } catch (error) {
    watchError(error.message || error.code);
  }
  loadPageViews(sessionId);
  if (snapshot) renderChats();
}

// Page views so far (those from before the watch, and any missed while
// disconnected); later ones arrive as chat.page_viewed while watching.
async function loadPageViews(sessionId) {
  try {
    const reply = await socket.request({ type: "chat.visitor", session_id: sessionId });
    if (watch.id !== sessionId) return;
    for (const view of reply.page_views || []) watch.pageViews.set(view.id, view);
    renderWatch();
  } catch (error) {
    console.warn("loading the page views failed", error);
  }
}

async function stopWatching({ quiet = false } = {}) {
  const id = watch.id;
  if (!id) return;
  resetWatch(null);
  watchParts = null;
  if (!quiet && watchPanel) {
    watchPanel.hidden = true;
    watchPanel.replaceChildren();
  }
  if (snapshot && chatsTab) renderChats();
  try {
    await socket.request({ type: "chat.unwatch", session_id: id });
  } catch {
    // The socket dropped: a new socket is in no group anyway.
  }
}

function buildWatchPanel() {
  const title = el("h2", { class: "sv-watch-title", id: "sv-watch-title", text: "Watching…" });
  const status = el("span", { class: "sv-watch-status muted", "aria-live": "polite" });
  const people = el("p", { class: "sv-watch-people muted" });
  const log = el("div", { class: "sv-watch-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0",
    "aria-label": "Chat being watched" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const input = el("textarea", { id: "sv-comment-input", rows: "2", maxlength: "10000",
    placeholder: "Comment to the agents; @name notifies someone" });
  const submit = el("button", { type: "submit", class: "btn btn-primary btn-small", text: "Comment" });
  const form = el("form", { class: "sv-comment-form", onsubmit: (event) => { event.preventDefault(); postComment(); } },
    el("label", { for: "sv-comment-input", text: "Internal comment (agents only, never the client)" }),
    input,
    el("div", { class: "sv-comment-actions" }, submit));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      postComment();
    }
  });
  watchPanel.replaceChildren(
    el("header", { class: "sv-watch-head" },
      el("div", {}, title, status),
      el("button", { type: "button", class: "btn btn-small", text: "Stop watching", onclick: () => stopWatching() })),
    people,
    el("p", { class: "sv-watch-note muted", text: "Read-only: you are not in the chat, the client does not see you, and nothing is marked read." }),
    log, error, form);
  // clientId: one per comment, kept until it is posted (a resend after a
  // dropped connection returns the stored comment instead of a second one).
  watchParts = { title, status, people, log, rows: new KeyedRows(log), error, input, submit, clientId: newClientId() };
}

function watchError(message) {
  if (!watchParts) return;
  watchParts.error.textContent = message;
  watchParts.error.hidden = !message;
}

// chat.models.OPEN_STATUSES (data-open-statuses, templates/chat/supervisor.html):
// the watch takes comments then.
const LIVE = dataJson(watchPanel, "openStatuses", []);
const WATCH_STATUS = { invited: "Invited", waiting: "Waiting", active: "Live", ended: "Ended",
  abandoned: "Abandoned", callback: "Callback", closed: "Closed", declined: "Declined" };

// The watch panel's rows (supervisor.css, log_rows.js): client on the left,
// staff on the right; a message's body is always chat-md here.
const WATCH_ROWS = {
  line: "sv-line",
  meta: "sv-line-meta",
  body: "sv-line-body",
  messageBody: "sv-line-body chat-md",
  mentions: "sv-line-mentions muted",
};

function renderWatch() {
  const session = watch.conversation && watch.conversation.session;
  if (!watchParts || !session) return;
  const { title, status, people, log } = watchParts;
  title.textContent = session.title;
  status.textContent = `${WATCH_STATUS[session.status] || session.status} · ${session.client.name}${session.company ? `, ${session.company}` : ""}`;
  const inRoom = session.participants.filter((p) => p.in_room).map((p) => `${p.user.name} (${p.role})`);
  people.textContent = inRoom.length ? `In the room: ${inRoom.join(", ")}` : "Nobody in the room yet.";
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const side = (message) => (message.author && message.author.id === session.client.id ? "client" : "agent");
  // Each row is built once and kept (log_view.js): the log appends, and a
  // screen reader hears only the new line.
  const { rows } = watchParts;
  const items = [
    ...watch.conversation.ordered().map((m) => ({ at: m.created_at, key: m.seq,
      node: rows.row(`m${m.seq}`, () => messageRow(m, { rows: WATCH_ROWS, side })) })),
    ...[...watch.comments.values()].map((c) => ({ at: c.created_at, key: 1e12 + c.id,
      node: rows.row(`c${c.id}`, () => commentRow(c, WATCH_ROWS)) })),
    ...[...watch.pageViews.values()].map((v) => ({ at: v.viewed_at, key: 2e12 + v.id,
      node: rows.row(`v${v.id}`, () => pageViewRow(v, WATCH_ROWS)) })),
  ];
  items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.key - b.key);
  rows.show(items.map((item) => item.node));
  if (atBottom || items.length < 4) log.scrollTop = log.scrollHeight;
  const live = LIVE.includes(session.status);
  watchParts.input.disabled = !live;
  watchParts.submit.disabled = !live;
}

async function postComment() {
  if (!watchParts || !watch.id) return;
  // The panel and chat this comment belongs to: the supervisor may stop
  // watching, or watch another chat, before the answer comes.
  const parts = watchParts;
  const id = watch.id;
  const body = parts.input.value.trim();
  if (!body) return;
  parts.submit.disabled = true;
  watchError("");
  try {
    const reply = await socket.request({ type: "chat.comment", session_id: id, body, client_id: parts.clientId });
    parts.clientId = newClientId();
    parts.input.value = "";
    if (watch.id !== id || watchParts !== parts) return;
    watch.comments.set(reply.comment.id, reply.comment);
    renderWatch();
  } catch (error) {
    if (watchParts === parts) watchError(error.message || error.code);
  } finally {
    parts.submit.disabled = false;
  }
}

// --- Socket wiring -----------------------------------------------------------------------------------------
// ?watch=<id> (the Watch link of a mention toast) opens the chat in the panel.
let pendingWatch = Number(new URLSearchParams(window.location.search).get("watch")) || null;

async function onHello() {
  await loadSnapshot();
  // A new socket is in no chat group: watch again, replaying what was missed.
  if (watch.id) startWatching(watch.id);
  else if (pendingWatch && watchPanel) startWatching(pendingWatch);
  pendingWatch = null;
}

socket.on("hello", onHello);
if (socket.state === "open") onHello();
socket.onState((state) => {
  if (connectionEl) {
    connectionEl.textContent = state === "open" ? "Live" : state === "unauthenticated" ? "Logged out" : "Reconnecting…";
    connectionEl.dataset.state = state;
  }
});
for (const type of ["queue.added", "queue.taken", "queue.updated", "queue.ended", "queue.abandoned",
  "presence.changed", "chat.session", "chat.transferred"]) {
  socket.on(type, refreshSoon);
}
setInterval(() => { if (socket.state === "open") loadSnapshot(); }, POLL_MS);

socket.on("chat.message", (frame) => {
  if (watch.conversation && frame.message.session_id === watch.id) watch.conversation.ingest(frame.message);
});
socket.on("chat.session", (frame) => {
  if (watch.conversation && frame.session.id === watch.id) watch.conversation.applySession(frame.session);
});
socket.on("chat.page_viewed", (frame) => {
  if (watch.id && frame.session_id === watch.id) {
    watch.pageViews.set(frame.page_view.id, frame.page_view);
    renderWatch();
  }
});
socket.on("chat.comment", (frame) => {
  if (watch.id && frame.session_id === watch.id) {
    watch.comments.set(frame.comment.id, frame.comment);
    renderWatch();
  }
});
// Leaving the page unsubscribes by itself (the socket closes); this is for tidiness.
window.addEventListener("pagehide", () => {
  if (watch.id) socket.send({ type: "chat.unwatch", session_id: watch.id });
});
