// One chat window: the portal's chat dialog and each docked window of the
// console. All text from people goes in with textContent, so HTML and
// scripts in a message, a name or a subject stay inert. The one exception is
// a text message's body_html: markdown the server rendered and sanitized
// (chat/formatting.py), inserted as HTML.

import { el } from "../dom.js";
import { FileAttacher } from "./attachments.js";
import { channelBadge } from "./channels.js";
import { Conversation } from "./conversation.js";
import { formatDuration } from "./format.js";
import { messageRow, readTick, refreshTick } from "./log_rows.js";
import { KeyedRows } from "./log_view.js";
import { MenuButton } from "./menu_button.js";

let windowCount = 0;

function typingText(names) {
  if (!names.length) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

const STATUS_TEXT = {
  invited: "Waiting for the client to accept",
  waiting: "Waiting for an agent",
  active: "Chatting",
  ended: "Chat ended",
  declined: "Invitation declined",
  abandoned: "Request ended",
  callback: "Callback requested",
  closed: "Closed",
};

export class ChatWindow {
  // viewer: "client" or "agent"; actions: extra toolbar buttons [{label, onClick, when(session, win)}];
  // panel: an optional view shown above the compose box ({root, update(session, win)}),
  // e.g. the client's choices when nobody answers.
  // onTemplate(win, button): the agent's Send template… once a WhatsApp chat's
  // 24-hour window has closed (free text is refused then).
  // menu: items of the small "⋯" menu in the header ([{label, onClick, when(session, win)}]),
  // where the agent's less frequent tools live so the window stays uncluttered.
  // onRender(win): after every render (the workspace's list shows each chat's
  // last message and unread count). onReveal(win): show this chat with the
  // focus in it (reveal(); by default, unfold the window and focus it).
  constructor(sessionId, { userId, viewer, onClose, actions = [], menu = [], panel = null, onTemplate = null,
    clock = () => Date.now(), onRender = () => {}, onReveal = null }) {
    this.onRender = onRender;
    this.onReveal = onReveal || ((win) => {
      win.setMinimized(false);
      win.focusMain();
    });
    this.viewer = viewer;
    this.userId = userId;
    this.actions = actions;
    this.menu = menu;
    this.panel = panel;
    this.onTemplate = onTemplate;
    this.onClose = onClose || (() => {});
    this.clock = clock;
    this._toolbarKey = null;
    this.conversation = new Conversation(sessionId, {
      userId,
      // Typing changes only the line under the log: no need to rebuild the log.
      onChange: (what) => (what === "typing" ? this._renderTyping() : this.render()),
    });
    this._build(sessionId);
    // Messages that came while the tab was hidden are read when it shows again.
    this._onVisible = () => { if (document.visibilityState === "visible") this.markReadIfShown(); };
    document.addEventListener("visibilitychange", this._onVisible);
    this._tick = setInterval(() => {
      this._renderStatus();
      this._renderTyping(); // expires "… is typing"
      // Buttons that appear with time (the client's End chat after a quiet hour).
      const session = this.conversation.session;
      if (session) this._renderToolbar(session);
      // A WhatsApp chat's window closes with time.
      if (session && session.channel === "whatsapp") this._renderCompose(session);
    }, 1000);
  }

  get id() {
    return this.conversation.id;
  }

  _build(sessionId) {
    const inputId = `chat-input-${sessionId}-${++windowCount}`;
    this.titleEl = el("h2", { class: "chat-title", id: `chat-title-${inputId}` });
    // SMS / WhatsApp and the client's number (empty for a portal chat).
    this.channelEl = el("span", { class: "chat-channel" });
    // The state is said once when it changes (aria-live); the waiting time
    // beside it ticks every second and is in no live region, or a screen
    // reader would read it out again and again.
    this.statusEl = el("span", { class: "chat-status", "aria-live": "polite" });
    this.timerEl = el("span", { class: "chat-timer", hidden: true });
    this.connectionEl = el("span", { class: "chat-connection", hidden: true, text: "Reconnecting…" });
    this.participantsList = el("ul", { class: "chat-participants-list" });
    this.participantsSummary = el("summary", { text: "In the room" });
    this.participantsEl = el(
      "details", { class: "chat-participants" }, this.participantsSummary, this.participantsList,
    );
    this.ticketLink = el("a", { class: "chat-ticket-link", hidden: true });
    this.toolbar = el("div", { class: "chat-toolbar" });
    this.toolbarButtons = new KeyedRows(this.toolbar);
    this.closeButton = el("button", {
      type: "button",
      class: "chat-close",
      "aria-label": "Leave chat",
      title: "Leave chat",
      text: "×",
      onclick: () => this.onClose(this),
    });
    this.minimizeButton = el("button", {
      type: "button",
      class: "chat-minimize",
      "aria-label": "Minimize chat",
      title: "Minimize",
      text: "–",
      onclick: () => this.setMinimized(!this.root.classList.contains("minimized")),
    });
    // The "⋯" menu: a WAI-ARIA menu button (menu_button.js).
    this.menuButton = this.menu.length
      ? new MenuButton({ id: `chat-menu-${inputId}`, label: "More actions", text: "⋯" })
      : null;
    this.menuEl = this.menuButton ? this.menuButton.root : null;
    // Short confirmations ("Copied") next to the title; gone after a moment.
    this.flashEl = el("span", { class: "chat-flash", role: "status", hidden: true });
    // role=log is polite by itself; aria-live says it to older readers too.
    // Additions only: a read tick changing in place is no news.
    this.log = el("div", { class: "chat-log", role: "log", "aria-live": "polite",
      "aria-relevant": "additions", "aria-label": "Chat log", tabindex: "0" });
    this.logRows = new KeyedRows(this.log);
    this.input = el("textarea", {
      id: inputId,
      class: "chat-input",
      rows: "2",
      placeholder: "Type a message (**bold**, *italics*, `code`)",
      title: "Formatting: **bold**, *italics*, `code`, - lists, [link](https://…)",
      oninput: () => { if (this.input.value.trim()) this.conversation.noteTyping(); },
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this._submit();
        }
      },
    });
    this.sendButton = el("button", { type: "submit", class: "btn btn-primary", text: "Send" });
    this.composeHint = el("p", { class: "chat-compose-hint" });
    this.templateButton = this.onTemplate
      ? el("button", {
        type: "button", class: "btn btn-small btn-primary chat-template-button", text: "Send template…",
        hidden: true, onclick: (event) => this.onTemplate(this, event.currentTarget),
      })
      : null;
    this.errorEl = el("p", { class: "chat-error", role: "alert", hidden: true });
    this.typingEl = el("p", { class: "chat-typing", "aria-live": "polite" });
    this.form = el(
      "form",
      { class: "chat-compose", onsubmit: (event) => { event.preventDefault(); this._submit(); } },
      el("label", { for: inputId, class: "visually-hidden-label", text: "Message" }),
      this.input,
      this.sendButton,
    );
    this.root = el(
      "section",
      { class: `chat-window viewer-${this.viewer}`, "data-session-id": String(sessionId),
        "aria-labelledby": this.titleEl.id },
      el(
        "header",
        { class: "chat-header" },
        el("div", { class: "chat-heading" }, this.titleEl, this.channelEl,
          el("span", { class: "chat-state" }, this.statusEl, this.timerEl), this.connectionEl,
          this.flashEl),
        el("div", { class: "chat-header-tools" }, this.menuEl, this.minimizeButton, this.closeButton),
      ),
      el("div", { class: "chat-subheader" }, this.participantsEl, this.ticketLink, this.toolbar),
      this.log,
      this.typingEl,
      this.errorEl,
      this.panel ? this.panel.root : null,
      this.composeHint,
      this.templateButton,
      this.form,
    );
    this.root.addEventListener("focusin", () => this.conversation.markRead());
    // Paperclip, drop and paste (attachments.js).
    this.files = new FileAttacher(this);
    this.form.insertBefore(this.files.button, this.input);
    this.form.append(this.files.input);
    this.errorEl.before(this.files.statusEl);
  }

  // Show this chat with the focus in it (a mention toast's Show chat).
  reveal() {
    this.onReveal(this);
  }

  // A docked window folded to its header, or shown whole again; the button
  // says what it does next (Minimize chat, Restore chat).
  setMinimized(minimized) {
    this.root.classList.toggle("minimized", minimized);
    this.minimizeButton.setAttribute("aria-label", minimized ? "Restore chat" : "Minimize chat");
    this.minimizeButton.title = minimized ? "Restore" : "Minimize";
    if (!minimized) this.markReadIfShown();
  }

  // Put text into the message box at the cursor (templates): the agent
  // reviews it and sends it; nothing is sent from here.
  insertText(text) {
    const input = this.input;
    if (input.disabled) return false;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.setRangeText(text, start, end, "end");
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }

  // A short confirmation beside the title ("Copied", "Logged 12 min on
  // ticket #4"); also a "chat:flash" event on the window, for whatever shows
  // the chat's ticket (the workspace's context pane) to read it again.
  flash(message) {
    this.root.dispatchEvent(new CustomEvent("chat:flash", { bubbles: true, detail: { message } }));
    this.flashEl.textContent = message;
    this.flashEl.hidden = false;
    clearTimeout(this._flashTimer);
    this._flashTimer = setTimeout(() => { this.flashEl.hidden = true; }, 2500);
  }

  // Read only what can be seen: the tab is showing and the window is neither
  // minimized (the dock) nor hidden behind another chat (the workspace).
  markReadIfShown() {
    if (document.visibilityState === "visible" && !this.root.hidden
        && !this.root.classList.contains("minimized")) {
      this.conversation.markRead();
    }
  }

  // A refusal from the server about this chat (e.g. End chat not allowed yet).
  showError(message) {
    this.errorEl.replaceChildren(
      el("span", { text: message }),
      el("button", {
        type: "button", class: "btn btn-link btn-small", text: "Dismiss",
        onclick: () => this.clearError(),
      }),
    );
    this.errorEl.hidden = false;
  }

  clearError() {
    this.errorEl.hidden = true;
    this.errorEl.replaceChildren();
  }

  setConnectionState(state) {
    this.connectionEl.hidden = state === "open";
    this.connectionEl.textContent = state === "open" ? "" : "Reconnecting…";
  }

  _submit() {
    const body = this.input.value.trim();
    if (!body || this.input.disabled) return;
    this.conversation.send(body);
    this.input.value = "";
    this.input.focus();
  }

  // --- rendering --------------------------------------------------------------------
  render() {
    const session = this.conversation.session;
    if (!session) return;
    // Where the focus was, to keep it somewhere useful when the message box
    // opens or closes under it (below).
    const composing = this.form.contains(document.activeElement);
    const wasClosed = this.input.disabled;
    this.titleEl.textContent = session.title;
    const badge = channelBadge(session);
    this.channelEl.replaceChildren(...(badge ? [badge] : []));
    this._renderStatus();
    this._renderParticipants(session);
    const url = this.viewer === "client" ? session.ticket_url : session.console_ticket_url;
    this.ticketLink.hidden = !url;
    if (url) {
      this.ticketLink.href = url;
      this.ticketLink.textContent = `Ticket #${session.ticket_id}`;
    }
    this._renderToolbar(session);
    if (this.panel) this.panel.update(session, this);
    this._renderCompose(session);
    this._renderLog(session);
    this._renderTyping(); // a message just in ends its author's "typing"
    this._keepFocus(composing, wasClosed);
    this.onRender(this);
  }

  // The message box closed under the focus (the chat ended): the focus goes to
  // what comes next (Leave), never to nowhere. It opened (an agent joined,
  // the client accepted) while the focus was nowhere or in this chat: the
  // focus goes into it, ready to type.
  _keepFocus(composing, wasClosed) {
    const open = !this.input.disabled;
    if (composing && !open) {
      this.focusMain();
    } else if (wasClosed && open) {
      const active = document.activeElement;
      if (!active || active === document.body || this.root.contains(active)) this.input.focus();
    }
  }

  // The focus into this chat: its Message box when it takes a message, else
  // its Leave button (an ended chat), else its log.
  focusMain() {
    if (!this.input.disabled) {
      this.input.focus();
      return;
    }
    const leave = this.toolbarButton("Leave") || this.log.querySelector(".chat-line.ended button");
    (leave || this.log).focus();
  }

  _renderStatus() {
    const session = this.conversation.session;
    if (!session) return;
    let text = STATUS_TEXT[session.status] || session.status;
    if (session.status === "abandoned" && session.outside_hours) text = "Support is closed";
    const waiting = session.status === "waiting" || session.status === "invited";
    if (this.statusEl.textContent !== text) this.statusEl.textContent = text;
    this.timerEl.hidden = !waiting;
    this.timerEl.textContent = waiting
      ? ` · ${formatDuration(this.clock() - Date.parse(session.requested_at))}` : "";
    this.root.dataset.status = session.status;
  }

  _renderParticipants(session) {
    const inRoom = session.participants.filter((p) => p.in_room);
    this.participantsSummary.textContent = `In the room (${inRoom.length})`;
    this.participantsList.replaceChildren(
      ...session.participants.map((p) =>
        el("li", { class: p.in_room ? "in-room" : "left" },
          p.user.name,
          el("span", { class: "muted", text: ` · ${p.role}${p.in_room ? "" : " (left)"}` })),
      ),
    );
  }

  _renderMenu(session) {
    if (!this.menuButton) return;
    this.menuButton.setItems(this.menu
      .filter((item) => !item.when || item.when(session, this))
      .map((item) => ({ label: item.label, onSelect: () => item.onClick(this) })));
  }

  // The toolbar's buttons are kept by label (KeyedRows): a button that stays
  // keeps the keyboard focus when others come and go.
  _renderToolbar(session) {
    this._renderMenu(session);
    const shown = this.actions.filter((action) => !action.when || action.when(session, this));
    const key = shown.map((action) => action.label).join("|");
    if (key === this._toolbarKey) return;
    this._toolbarKey = key;
    this.toolbarButtons.show(shown.map((action) => this.toolbarButtons.row(action.label, () =>
      el("button", {
        type: "button",
        class: `btn btn-small ${action.className || ""}`,
        text: action.label,
        onclick: () => action.onClick(this),
      }))));
  }

  // A toolbar button by its label (End chat, Leave...), while it is shown.
  toolbarButton(label) {
    return [...this.toolbar.children].find((button) => button.textContent === label) || null;
  }

  // An agent's WhatsApp chat whose client last wrote more than 24 hours ago
  // (or never did): only an approved template may go (chat/whatsapp_window.py).
  windowClosed(session) {
    if (this.viewer !== "agent" || session.channel !== "whatsapp" || session.status !== "active") return false;
    return !session.window_closes_at || this.clock() >= Date.parse(session.window_closes_at);
  }

  _renderCompose(session) {
    const open = session.status === "active";
    const agentHere = this.conversation.hasAgentInRoom();
    const windowClosed = this.windowClosed(session);
    const canSend = open && (this.viewer === "agent" || agentHere) && !windowClosed;
    this.input.disabled = !canSend;
    this.sendButton.disabled = !canSend;
    // In SMS and WhatsApp chats too: the server refuses a file the provider
    // would not take, with words the window shows.
    this.files.setEnabled(canSend);
    let hint = "";
    if (session.status === "waiting") hint = "You can write as soon as an agent joins.";
    else if (session.status === "invited") hint = this.viewer === "agent" ? "Waiting for the client to accept." : "";
    else if (open && !agentHere && this.viewer === "client") hint = "Waiting for an agent to return.";
    else if (session.status === "callback") hint = "You asked to be called back; messages can no longer be sent.";
    else if (session.status === "abandoned" && session.outside_hours) hint = "Support is closed; chat opens again during office hours.";
    else if (session.status === "abandoned") hint = "This request has ended; messages can no longer be sent.";
    else if (!open) hint = "This chat has ended; messages can no longer be sent.";
    else if (windowClosed) hint = "The 24-hour window has closed: send an approved template";
    // The panel (nobody answered, support closed...) says it better.
    if (this.panel && !this.panel.root.hidden) hint = "";
    this.composeHint.textContent = hint;
    this.composeHint.hidden = !hint;
    if (this.templateButton) this.templateButton.hidden = !windowClosed;
  }

  // The log changes by appending (KeyedRows, log_view.js): each row is
  // built once and kept by key, so a screen reader hears the new message only.
  _renderLog(session) {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    let rows = this.conversation.ordered().map((message) => this._messageRow(message));
    // The console slots staff-only comments in between (chat/comments.js).
    if (this.interleave) rows = this.interleave(rows, this.conversation.ordered());
    for (const item of this.conversation.outbox) rows.push(this._pendingRow(item));
    if (session.status === "ended" || session.status === "declined") {
      rows.push(this.logRows.row(`end-${session.status}`, () => el("div", { class: "chat-line system ended" },
        el("span", { text: session.status === "ended" ? "The chat has ended." : "The invitation was declined." }),
        el("button", {
          type: "button", class: "btn btn-small", text: "Leave",
          onclick: () => this.onClose(this),
        }))));
    }
    this.logRows.show(rows);
    if (atBottom || rows.length < 3) this.log.scrollTop = this.log.scrollHeight;
    this.markReadIfShown();
  }

  _renderTyping() {
    const text = typingText(this.conversation.typingNames());
    if (this.typingEl.textContent !== text) this.typingEl.textContent = text;
  }

  // A message as a chat window shows it (log_rows.js): mine or theirs, with
  // read ticks, each file's node kept by the FileAttacher. Built once; a
  // change of its tick is made in place.
  _messageRow(message) {
    const tick = (m) => readTick(m, this.viewer);
    return this.logRows.row(`m${message.seq}`, () => messageRow(message, {
      side: (m) => (m.author && m.author.id === this.userId ? "mine" : "theirs"),
      tick,
      attachment: (attachment) => this.files.view(attachment),
    }), { update: (row) => refreshTick(row, tick(message)) });
  }

  // A message on its way ("Sending…"), or refused ("Not sent: ..."), by its client_id.
  _pendingRow(item) {
    return this.logRows.row(`p${item.client_id}`, () => el(
      "div",
      { class: `chat-line mine pending${item.error ? " failed" : ""}` },
      el("div", { class: "chat-meta" },
        el("strong", { text: "You" }),
        el("span", { class: "muted", text: item.error ? `Not sent: ${item.error}` : "Sending…" }),
        item.error
          ? el("button", {
            type: "button", class: "btn btn-link btn-small", text: "Dismiss",
            onclick: () => this.conversation.discard(item.client_id),
          })
          : null),
      el("div", { class: "chat-body", text: item.body }),
    ), { sig: item.error || "" });
  }

  destroy() {
    clearInterval(this._tick);
    clearTimeout(this._flashTimer);
    if (this.menuButton) this.menuButton.destroy();
    document.removeEventListener("visibilitychange", this._onVisible);
    this.conversation.close();
    this.root.remove();
  }
}
