// Visitor info and page views in the console's chat windows (staff only; the
// server never sends either to a client: chat/visitors/).
//
// - A "Visitor" section next to "In the room": IP address, user agent, when
//   the chat was requested, the landing page of the client's browser session
//   and its first visit to the portal. Read with chat.visitor when opened.
// - The client's page views as system lines between the messages, by time
//   ("Alice viewed /portal/tickets/12/ — Printer prints blank pages"), live
//   from chat.page_viewed. Everything from the browser goes in as text.
//
//   installVisitorInfo({ socket, windows })  // once, from console.js
//   attachVisitorInfo(win)                   // for each new ChatWindow, after attachComments

import { el } from "../dom.js";
import { formatDateTime } from "./format.js";
import { pageViewRow } from "./log_rows.js";

let socketRef = null;
const attached = new Set();

function formatWhen(iso) {
  return iso ? formatDateTime(iso) : null;
}

// When a row of the log happened: its own <time> (system lines) or its
// meta line's (messages, comments). Rows without one (pending sends, the
// end-of-chat line) come last.
function rowTime(row) {
  const time = row.querySelector(":scope > time[datetime], :scope > .chat-meta > time[datetime]");
  return time ? Date.parse(time.getAttribute("datetime")) : Infinity;
}

// The page views slotted into the rows: each before the first row after it.
function withPageViews(win, rows) {
  if (!win.pageViews.size) return rows;
  const views = [...win.pageViews.values()].sort(
    (a, b) => Date.parse(a.viewed_at) - Date.parse(b.viewed_at) || a.id - b.id);
  const out = [];
  let v = 0;
  // Each page view's row is built once (the log appends: log_view.js).
  const viewRow = (view) => win.logRows.row(`v${view.id}`, () => pageViewRow(view));
  for (const row of rows) {
    const at = rowTime(row);
    while (v < views.length && Date.parse(views[v].viewed_at) < at) out.push(viewRow(views[v++]));
    out.push(row);
  }
  // Past every timed row but before the pending and end-of-chat rows.
  const tail = [];
  while (out.length && rowTime(out[out.length - 1]) === Infinity) tail.unshift(out.pop());
  while (v < views.length) out.push(viewRow(views[v++]));
  return out.concat(tail);
}

function field(label, ...value) {
  const shown = value.filter((part) => part != null && part !== "");
  return [
    el("dt", { text: label }),
    el("dd", {}, ...(shown.length ? shown : [el("span", { class: "muted", text: "unknown" })])),
  ];
}

function renderPanel(win) {
  const info = win.visitor;
  if (!info) return;
  const page = (path, at) => (path
    ? [el("code", { text: path }), at ? el("span", { class: "muted", text: ` · ${formatWhen(at)}` }) : null]
    : []);
  win.visitorList.replaceChildren(
    ...field("IP address", info.ip_address),
    ...field("User agent", info.user_agent),
    ...field("Session start", formatWhen(info.session_start)),
    ...field("Landing page", ...page(info.landing_page, info.landing_at)),
    ...field("First visit", ...page(info.first_visit_page, info.first_visit_at)),
    ...field("Pages viewed", String(win.pageViews.size)),
  );
}

async function load(win) {
  try {
    const reply = await socketRef.request({ type: "chat.visitor", session_id: win.id });
    win.visitor = reply.visitor;
    for (const view of reply.page_views || []) win.pageViews.set(view.id, view);
    win.visitorError.hidden = true;
    renderPanel(win);
    win.render();
  } catch (error) {
    win.visitorError.textContent = error.message || "Visitor info is not available.";
    win.visitorError.hidden = false;
  }
}

export function attachVisitorInfo(win) {
  if (win.pageViews) return;
  win.pageViews = new Map();
  win.visitor = null;
  const previous = win.interleave;
  win.interleave = (rows, messages) => withPageViews(win, previous ? previous(rows, messages) : rows);
  win.visitorList = el("dl", { class: "chat-visitor-info" });
  win.visitorError = el("p", { class: "chat-visitor-error", role: "alert", hidden: true });
  win.visitorEl = el("details", { class: "chat-visitor" },
    el("summary", { text: "Visitor" }),
    el("div", { class: "chat-visitor-body" }, win.visitorError, win.visitorList));
  win.visitorEl.addEventListener("toggle", () => { if (win.visitorEl.open) load(win); });
  win.participantsEl.after(win.visitorEl);
  attached.add(win);
  load(win);
}

export function installVisitorInfo({ socket, windows }) {
  socketRef = socket;
  // The panel floats over the log: a click anywhere else closes it, as menus
  // do; not where it is pinned open (the workspace's right pane, data-pinned).
  document.addEventListener("click", (event) => {
    for (const win of attached) {
      const panel = win.visitorEl;
      if (panel.open && !("pinned" in panel.dataset) && !panel.contains(event.target)) panel.open = false;
    }
  });
  socket.on("chat.page_viewed", (frame) => {
    const win = windows.get(frame.session_id);
    if (!win || !win.pageViews) return;
    win.pageViews.set(frame.page_view.id, frame.page_view);
    renderPanel(win);
    win.render();
  });
  // Page views missed while disconnected, and those from before a join.
  socket.on("hello", () => {
    for (const win of [...attached]) {
      if (!win.root.isConnected) attached.delete(win);
      else load(win);
    }
  });
  socket.on("chat.subscribed", (frame) => {
    const win = windows.get(frame.session_id);
    if (win && win.pageViews) load(win);
  });
}
