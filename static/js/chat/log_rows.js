// The rows of a chat's log: a message, a system line, a staff-only comment, a
// page view of the client. Shared by the chat windows (chat_window.js, with
// the rows comments.js and visitor_info.js slot in) and the supervisor's watch
// panel (supervisor.js), whose rows differ only in their classes (`rows`).
// Text from people goes in with textContent, so HTML and scripts in a message,
// a name or a comment stay inert. The one exception is a message's body_html:
// markdown the server rendered and sanitized (chat/formatting.py), inserted
// as HTML.

import { el } from "../dom.js";
import { attachmentView } from "./attachments.js";
import { deliveryTick } from "./channels.js";
import { sideOf } from "./conversation.js";
import { formatReadTime, formatTime } from "./format.js";

// The classes of a chat window's rows (chat.css, comments.css): the line, its
// meta line (author, time), a comment's and a message's body, and the
// comment's "Notified" line.
export const CHAT_ROWS = {
  line: "chat-line",
  meta: "chat-meta",
  body: "chat-body",
  messageBody: "chat-body",
  mentions: "chat-comment-mentions",
};

// A line of the log's own: its text and its time.
function eventRow(rows, kind, attrs, text, at) {
  return el("div", { class: `${rows.line} ${kind}`, ...attrs },
    el("span", { text }),
    el("time", { datetime: at, text: formatTime(at) }));
}

// A message. side(message): the line's class for its author (mine/theirs in
// a chat window, client/agent in the watch); tick(message): a node after the
// time, or null; attachment(attachment): the body of a file message.
export function messageRow(message, { rows = CHAT_ROWS, side, tick = () => null, attachment = attachmentView }) {
  if (message.kind === "system" && message.delivery) {
    // An auto-reply sent to an SMS/WhatsApp client (chat/auto_replies.py), with its tick.
    const row = eventRow(rows, "system auto-reply", { "data-seq": String(message.seq) },
      `Auto-reply: ${message.body}`, message.created_at);
    const sentTick = tick(message);
    if (sentTick) row.append(sentTick);
    return row;
  }
  if (message.kind === "system") {
    return eventRow(rows, "system", { "data-seq": String(message.seq) }, message.body, message.created_at);
  }
  const body = el("div", { class: rows.messageBody });
  if (message.attachment) {
    body.append(attachment(message.attachment)); // the name goes in as text
  } else if (typeof message.body_html === "string") {
    body.classList.add("chat-md");
    body.innerHTML = message.body_html; // sanitized by the server (chat/formatting.py)
  } else {
    body.textContent = message.body;
  }
  return el(
    "div",
    { class: `${rows.line} ${side(message)}`, "data-seq": String(message.seq) },
    el("div", { class: rows.meta },
      el("strong", { text: message.author ? message.author.name : "Unknown" }),
      el("time", { datetime: message.created_at, text: formatTime(message.created_at) }),
      tick(message)),
    body,
  );
}

// Ticks on the messages of the viewer's side (the client's own; for staff,
// every agent's): a double tick once the other side has read it. A message
// sent to an SMS/WhatsApp client shows how far the provider got instead.
export function readTick(message, viewer) {
  if (message.delivery) return viewer === "client" ? null : deliveryTick(message);
  const ownSide = message.author && sideOf(message.author) === (viewer === "client" ? "client" : "agent");
  if (!ownSide) return null;
  const read = Boolean(message.read_at);
  // An image of ticks, named by what they mean (a plain span's aria-label is not read out).
  return el("span", {
    class: `chat-tick${read ? " read" : ""}`,
    role: "img",
    title: read ? `Read ${formatReadTime(message.read_at)}` : "Delivered",
    "aria-label": read ? `Read ${formatReadTime(message.read_at)}` : "Delivered",
    text: read ? "✓✓" : "✓",
  });
}

// A kept message row's tick brought up to date in place (KeyedRows'
// update, log_view.js): its text and labels change, the row stays the same
// node, so the log announces nothing new. `tick` is the tick as it is now.
export function refreshTick(row, tick) {
  const shown = row.querySelector(".chat-tick");
  if (!shown && !tick) return;
  if (!shown) {
    row.querySelector(":scope > [class] > time")?.after(tick);
    return;
  }
  if (!tick) {
    shown.remove();
    return;
  }
  for (const name of ["class", "title", "aria-label", "data-delivery"]) {
    const value = tick.getAttribute(name);
    if (shown.getAttribute(name) === value) continue;
    if (value == null) shown.removeAttribute(name);
    else shown.setAttribute(name, value);
  }
  if (shown.textContent !== tick.textContent) shown.textContent = tick.textContent;
}

// A staff-only comment, marked Internal; the client never gets one.
export function commentRow(comment, rows = CHAT_ROWS) {
  return el("div", { class: `${rows.line} comment`, "data-comment-id": String(comment.id) },
    el("div", { class: rows.meta },
      el("span", { class: "tag tag-internal", text: "Internal" }),
      el("strong", { text: comment.author ? comment.author.name : "Unknown" }),
      el("time", { datetime: comment.created_at, text: formatTime(comment.created_at) })),
    // textContent: a comment is plain text, whatever it contains.
    el("div", { class: rows.body, text: comment.body }),
    comment.mentions && comment.mentions.length
      ? el("div", { class: rows.mentions, text: `Notified: ${comment.mentions.map((u) => u.name).join(", ")}` })
      : null);
}

// A page the client viewed (staff only). view.text ("Alice viewed
// /portal/tickets/12/ — Printer") is the server's, as text.
export function pageViewRow(view, rows = CHAT_ROWS) {
  return eventRow(rows, "system page-view", { "data-page-view-id": String(view.id) }, view.text, view.viewed_at);
}
