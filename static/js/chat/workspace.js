// The agent workspace (/console/chats/, templates/chat/workspace.html): three
// panes instead of the docked windows. console.js keeps the chats, the socket
// and the actions as on every console page; on this page it hands its chat
// windows and its lists to a Workspace:
//
//   - left, the list: the queue (live waiting time, red after the warning,
//     Join), my chats (client, company, channel, last message, unread count),
//     other agents' live chats and the follow-up cards;
//   - middle, the chat on show: a ChatWindow at full height; the others stay
//     in the page, hidden, so each keeps its draft, and its scroll position is
//     put back when it shows again;
//   - right, about that chat: its ticket, contact and company (an HTML
//     fragment of chat/workspace/views.py) and its visitor (visitor_info.js).
//
// ?chat=<id> in the address is the chat on show: Join anywhere in the
// console lands here with it, the focus in its Message box.

import { el } from "../dom.js";
import { channelBadge } from "./channels.js";
import { formatDuration } from "./format.js";
import { KeyedRows } from "./log_view.js";

const SECTIONS = [
  { key: "queue", title: "Queue", empty: "Nobody is waiting." },
  { key: "mine", title: "My chats", empty: "No open chats." },
  { key: "others", title: "Other chats", empty: "No other live chats." },
  { key: "followups", title: "Follow-ups", empty: "No abandoned requests or callbacks." },
];

// What a chat's last message says in the list, on one line.
function preview(message, userId) {
  if (!message) return "";
  const who = message.author ? (message.author.id === userId ? "You" : message.author.name.split(" ")[0]) : "";
  const what = message.attachment ? `File: ${message.attachment.name}` : message.body.replace(/\s+/g, " ").trim();
  return who && message.kind !== "system" ? `${who}: ${what}` : what;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export class Workspace {
  // console: what console.js lends: windows (id -> ChatWindow), groups() (the
  // sessions by list, as its session manager has them), joinButton(id),
  // followUpCard(session), agentNames(session), clock(), warningSeconds,
  // userId, isSupervisor.
  constructor(root, console) {
    this.root = root;
    this.console = console;
    this.listBody = root.querySelector("[data-ws-list]");
    this.windowsBox = root.querySelector("[data-ws-windows]");
    this.emptyBox = root.querySelector("[data-ws-empty]");
    this.contextBody = root.querySelector("[data-ws-context]");
    this.visitorBox = root.querySelector("[data-ws-visitor]");
    this.announcer = root.querySelector("[data-ws-announce]");
    this.listTitle = root.querySelector("#ws-list-title");
    this.listTitle.tabIndex = -1; // where the focus goes when no chat is left
    this.contextUrl = root.dataset.contextUrl; // .../0/context/
    this.selectedId = null;
    // The chat the address asks for (a Join elsewhere): shown once its window is here.
    this.pendingId = Number(new URLSearchParams(window.location.search).get("chat")) || null;
    this.scroll = new Map(); // session id -> {top, atBottom} of a hidden chat's log
    this.seen = new Map(); // session id -> last seq on show when it was hidden
    this.overdue = new Set(); // queue entries already said to be red
    this.contextKey = null;
    this.contextRequest = 0;
    this.sections = null;
    this.order = []; // my chats' ids, in list order (next / previous chat)
    this._listPending = false;
    this._buildList();
    // The time entry of the chat's ticket changed the Time in the context pane.
    this.windowsBox.addEventListener("chat:flash", () => this._loadContext(true));
    setInterval(() => this._tick(), 1000);
  }

  // --- chat windows -----------------------------------------------------------------------
  // A new ChatWindow of console.js: into the middle pane, hidden until chosen.
  adopt(win) {
    win.root.hidden = true;
    this.windowsBox.append(win.root);
    if (this.pendingId === win.id) {
      this.pendingId = null;
      this.select(win.id, { focus: true });
    } else if (this.selectedId === null && this.pendingId === null) {
      this.select(win.id); // an idle workspace shows what arrives, without taking the focus
    }
  }

  // Show a chat; focus: put the focus in its Message box (or, when it is
  // closed, in its log), as after Join or a next-chat shortcut.
  select(sessionId, { focus = false } = {}) {
    const win = this.console.windows.get(sessionId);
    if (!win) return;
    const current = this.current();
    if (current && current !== win) this._hide(current);
    this.selectedId = sessionId;
    const wasHidden = win.root.hidden;
    win.root.hidden = false;
    this.emptyBox.hidden = true;
    if (wasHidden) this._restoreScroll(win);
    win.markReadIfShown();
    if (focus) this.focusComposer();
    const url = new URL(window.location.href);
    url.searchParams.set("chat", String(sessionId));
    window.history.replaceState(window.history.state, "", url);
    this._showVisitor(win);
    this._loadContext();
    this.refresh();
  }

  current() {
    return this.selectedId === null ? null : this.console.windows.get(this.selectedId) || null;
  }

  // The chat shown before `delta` steps down (1) or up (-1) the list of my chats.
  step(delta) {
    if (!this.order.length) return;
    const at = this.order.indexOf(this.selectedId);
    const next = at < 0 ? (delta > 0 ? 0 : this.order.length - 1) : (at + delta + this.order.length) % this.order.length;
    this.select(this.order[next], { focus: true });
  }

  // The focus into the chat on show (ChatWindow.focusMain: its Message box,
  // or Leave when it ended), or to the list when none is.
  focusComposer() {
    const win = this.current();
    if (win) win.focusMain();
    else this.listTitle.focus();
  }

  // A window closed (Leave, Transfer, the chat taken elsewhere): show the
  // next of my chats; the focus follows if it was in the closed one.
  forget(win, { hadFocus }) {
    this.scroll.delete(win.id);
    this.seen.delete(win.id);
    if (this.selectedId !== win.id) return;
    const at = this.order.indexOf(win.id);
    const rest = this.order.filter((id) => id !== win.id && this.console.windows.has(id));
    this.selectedId = null;
    const next = rest.length ? rest[Math.min(Math.max(at, 0), rest.length - 1)] : null;
    if (next !== null) {
      this.select(next, { focus: hadFocus });
      return;
    }
    this.emptyBox.hidden = false;
    this.visitorBox.replaceChildren();
    this.contextKey = null;
    this.contextBody.replaceChildren(el("p", { class: "muted", text: "No chat open." }));
    const url = new URL(window.location.href);
    url.searchParams.delete("chat");
    window.history.replaceState(window.history.state, "", url);
    this.refresh();
    if (hadFocus) {
      // Nothing else to show: the oldest request's Join, or the list itself.
      const join = this.listBody.querySelector(".ws-queue-item button");
      (join || this.listTitle).focus();
    }
  }

  // The first Join of the queue (a shortcut goes there).
  focusQueue() {
    const join = this.listBody.querySelector(".ws-queue-item button");
    (join || this.listTitle).focus();
  }

  _hide(win) {
    const log = win.log;
    this.scroll.set(win.id, {
      top: log.scrollTop,
      atBottom: log.scrollHeight - log.scrollTop - log.clientHeight < 40,
    });
    this.seen.set(win.id, win.conversation.lastSeq);
    win.root.hidden = true;
  }

  _restoreScroll(win) {
    const saved = this.scroll.get(win.id);
    const log = win.log;
    log.scrollTop = !saved || saved.atBottom ? log.scrollHeight : saved.top;
  }

  // The Visitor panel of visitor_info.js, open in the right pane.
  _showVisitor(win) {
    if (!win.visitorEl) {
      this.visitorBox.replaceChildren();
      return;
    }
    win.visitorEl.dataset.pinned = ""; // visitor_info.js: not closed by a click elsewhere
    win.visitorEl.open = true;
    if (win.visitorEl.parentNode !== this.visitorBox) this.visitorBox.replaceChildren(win.visitorEl);
  }

  // --- the context pane -------------------------------------------------------------------
  // Read again when another chat shows, or when what it says may have
  // changed: the chat's status, ticket, contact or who is in it.
  async _loadContext(force = false) {
    const win = this.current();
    const session = win && win.conversation.session;
    if (!session) return;
    const people = session.participants.map((p) => `${p.user.id}:${p.in_room}`).join(",");
    const key = [session.id, session.status, session.ticket_id, session.contact && session.contact.id, people].join("|");
    if (!force && key === this.contextKey) return;
    this.contextKey = key;
    const request = ++this.contextRequest;
    try {
      const response = await fetch(this.contextUrl.replace("/0/", `/${session.id}/`), {
        credentials: "same-origin", headers: { Accept: "text/html" },
      });
      if (request !== this.contextRequest) return; // another chat is on show by now
      if (!response.ok) throw new Error(String(response.status));
      // Our own template's HTML (chat/workspace/_context.html), escaped by Django.
      this.contextBody.innerHTML = await response.text();
    } catch {
      if (request !== this.contextRequest) return;
      this.contextKey = null;
      this.contextBody.replaceChildren(el("p", { class: "form-error", text: "Could not load the ticket and contact." }));
    }
  }

  // A ticket changed, here or in another console (ticket.changed): the pane
  // reads it again when it is the ticket of the chat on show.
  ticketChanged(ticketId) {
    const win = this.current();
    const session = win && win.conversation.session;
    if (session && session.ticket_id === ticketId) this._loadContext(true);
  }

  // --- the list ----------------------------------------------------------------------------
  _buildList() {
    this.idleEl = el("p", { class: "ws-idle", hidden: true,
      text: "No chats right now. Requests show up here, with a sound and a notification." });
    this.sections = {};
    const nodes = SECTIONS.map(({ key, title, empty }) => {
      const list = el("ul", { class: "ws-items" });
      const count = el("span", { class: "ws-count" });
      const none = el("p", { class: "muted ws-none", text: empty });
      // Headings, not landmarks: the pane is the region.
      const node = el("div", { class: `ws-section ws-${key}` },
        el("h3", { id: `ws-h-${key}` }, title, " ", count), list, none);
      this.sections[key] = { node, list, count, none, rows: new KeyedRows(list) };
      return node;
    });
    this.listBody.replaceChildren(this.idleEl, ...nodes);
    this.listBody.hidden = true; // until the first snapshot: "Connecting…" meanwhile
    this.connecting = el("p", { class: "muted ws-connecting", text: "Connecting…" });
    this.listBody.before(this.connecting);
  }

  // Draw the list again, once per frame however often it is asked for.
  refresh() {
    if (this._listPending) return;
    this._listPending = true;
    requestAnimationFrame(() => {
      this._listPending = false;
      this._renderList();
    });
  }

  // A chat window drew itself: its last message or unread count may have changed.
  changed(win) {
    if (win.id === this.selectedId) this._loadContext();
    this.refresh();
  }

  _renderList() {
    const groups = this.console.groups();
    const byAge = (a, b) => Date.parse(a.requested_at) - Date.parse(b.requested_at);
    const mine = [...groups.mine].sort(byAge);
    const followups = [...groups.abandoned, ...groups.callbacks].sort(byAge);
    const lists = { queue: groups.queue, mine, others: groups.others, followups };
    this.order = mine.map((session) => session.id).filter((id) => this.console.windows.has(id));
    this.connecting.remove();
    this.listBody.hidden = false;
    const idle = Object.values(lists).every((list) => !list.length);
    this.idleEl.hidden = !idle;
    for (const { key } of SECTIONS) {
      const part = this.sections[key];
      const sessions = lists[key];
      part.node.hidden = idle;
      part.count.textContent = String(sessions.length);
      part.none.hidden = sessions.length > 0;
      part.rows.show(sessions.map((session) => this._row(key, part.rows, session)));
    }
  }

  _row(key, rows, session) {
    if (key === "queue") return rows.row(`q${session.id}`, () => this._queueRow(session), { update: (row) => this._fillQueueRow(row, session) });
    if (key === "mine") return rows.row(`m${session.id}`, () => this._mineRow(session), { update: (row) => this._fillMineRow(row, session) });
    if (key === "others") return rows.row(`o${session.id}`, () => this._othersRow(session), { update: (row) => this._fillOthersRow(row, session) });
    // A follow-up card is console.js's own; built again when the card changes.
    const sig = [session.status, session.client_online, session.last_seq, session.ticket_id].join("|");
    return rows.row(`f${session.id}`, () => this.console.followUpCard(session), { sig });
  }

  // The lines every row has: who (client · company), the channel, the subject.
  _itemMain() {
    return el("span", { class: "ws-item-main" },
      el("span", { class: "ws-item-who" },
        el("span", { class: "ws-item-client" }), el("span", { class: "ws-item-badge" })),
      el("span", { class: "ws-item-title" }));
  }

  _fillMain(row, session) {
    setText(row.querySelector(".ws-item-client"), `${session.client.name} · ${session.company || "no company"}`);
    const badgeBox = row.querySelector(".ws-item-badge");
    const badge = channelBadge(session, { showWeb: true });
    if ((badgeBox.textContent || "") !== (badge ? badge.textContent : "")) badgeBox.replaceChildren(...(badge ? [badge] : []));
    setText(row.querySelector(".ws-item-title"), session.title);
  }

  _queueRow(session) {
    const row = el("li", { class: "ws-item ws-queue-item", "data-session-id": String(session.id) },
      this._itemMain(),
      el("span", { class: "ws-wait", title: "Waiting time" }),
      this.console.joinButton(session.id));
    this._fillQueueRow(row, session);
    return row;
  }

  _fillQueueRow(row, session) {
    this._fillMain(row, session);
    row.dataset.requestedAt = session.requested_at;
    row.dataset.warned = session.warned_at ? "1" : "";
    this._tickRow(row, session);
  }

  _mineRow(session) {
    const row = el("li", { class: "ws-item ws-mine-item", "data-session-id": String(session.id) },
      el("button", { type: "button", class: "ws-open", onclick: () => this.select(session.id, { focus: true }) },
        this._itemMain(),
        el("span", { class: "ws-preview" }),
        el("span", { class: "ws-unread", hidden: true })));
    this._fillMineRow(row, session);
    return row;
  }

  _fillMineRow(row, session) {
    this._fillMain(row, session);
    const win = this.console.windows.get(session.id);
    const selected = session.id === this.selectedId;
    const button = row.querySelector(".ws-open");
    if (selected) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    row.classList.toggle("is-selected", selected);
    row.dataset.status = session.status;
    const conversation = win && win.conversation;
    const messages = conversation ? conversation.ordered() : [];
    const last = messages[messages.length - 1];
    const state = session.status === "active" ? "" : ` (${session.status === "invited" ? "invited" : "ended"})`;
    setText(row.querySelector(".ws-preview"), `${preview(last, this.console.userId)}${state}` || " ");
    const unread = selected && document.visibilityState === "visible" ? 0 : this._unread(session, messages);
    const badge = row.querySelector(".ws-unread");
    badge.hidden = !unread;
    setText(badge, unread ? String(unread) : "");
    if (unread) badge.append(el("span", { class: "visually-hidden-label", text: " unread" }));
  }

  // Messages from the others after what this agent has read (its read mark,
  // or what was on show when it last looked).
  _unread(session, messages) {
    const me = session.participants.find((p) => p.user.id === this.console.userId);
    const win = this.console.windows.get(session.id);
    const read = Math.max(me ? me.last_read_seq : 0, this.seen.get(session.id) || 0,
      win ? win.conversation.readSent : 0);
    return messages.filter((m) => m.seq > read && ["text", "file"].includes(m.kind)
      && m.author && m.author.id !== this.console.userId).length;
  }

  _othersRow(session) {
    const watch = this.console.isSupervisor
      ? el("a", { class: "btn btn-small", href: `/console/supervisor/?watch=${session.id}`, text: "Watch",
        "aria-label": `Watch the chat with ${session.client.name}` })
      : null;
    const row = el("li", { class: "ws-item ws-others-item", "data-session-id": String(session.id) },
      this._itemMain(), el("span", { class: "ws-with" }), watch);
    this._fillOthersRow(row, session);
    return row;
  }

  _fillOthersRow(row, session) {
    this._fillMain(row, session);
    setText(row.querySelector(".ws-with"), `with ${this.console.agentNames(session) || "nobody"}`);
  }

  // --- waiting times ---------------------------------------------------------------------------
  _tick() {
    for (const row of this.listBody.querySelectorAll(".ws-queue-item")) this._tickRow(row);
  }

  // The waiting time ticks here, in no live region; turning red is said once.
  _tickRow(row, session = null) {
    const waitedMs = this.console.clock() - Date.parse(row.dataset.requestedAt);
    const overdue = row.dataset.warned === "1" || waitedMs >= this.console.warningSeconds * 1000;
    setText(row.querySelector(".ws-wait"), formatDuration(waitedMs));
    row.classList.toggle("overdue", overdue);
    const id = Number(row.dataset.sessionId);
    if (overdue && !this.overdue.has(id)) {
      this.overdue.add(id);
      const who = row.querySelector(".ws-item-client").textContent;
      if (!session) this.announcer.textContent = `${who} has waited over ${this.console.warningSeconds} seconds.`;
    }
  }
}
