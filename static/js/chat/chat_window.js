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
import { messageRow, readTick } from "./log_rows.js";

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
  constructor(sessionId, { userId, viewer, onClose, actions = [], menu = [], panel = null, onTemplate = null,
    clock = () => Date.now() }) {
    this.viewer = viewer;
    this.userId = userId;
    this.actions = actions;
    this.menu = menu;
    this._menuKey = null;
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
    this._onVisible = () => { if (document.visibilityState === "visible") this._markRead(); };
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
    this.statusEl = el("span", { class: "chat-status", "aria-live": "polite" });
    this.connectionEl = el("span", { class: "chat-connection", hidden: true, text: "Reconnecting…" });
    this.participantsList = el("ul", { class: "chat-participants-list" });
    this.participantsSummary = el("summary", { text: "In the room" });
    this.participantsEl = el(
      "details", { class: "chat-participants" }, this.participantsSummary, this.participantsList,
    );
    this.ticketLink = el("a", { class: "chat-ticket-link", hidden: true });
    this.toolbar = el("div", { class: "chat-toolbar" });
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
      onclick: () => this.root.classList.toggle("minimized"),
    });
    this.menuList = el("div", { class: "chat-menu-list", role: "menu" });
    this.menuEl = this.menu.length
      ? el("details", { class: "chat-menu" },
        el("summary", { "aria-label": "More actions", title: "More actions", text: "⋯" }),
        this.menuList)
      : null;
    // Short confirmations ("Copied") next to the title; gone after a moment.
    this.flashEl = el("span", { class: "chat-flash", role: "status", hidden: true });
    this.log = el("div", { class: "chat-log", role: "log", "aria-live": "polite", tabindex: "0" });
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
        el("div", { class: "chat-heading" }, this.titleEl, this.channelEl, this.statusEl, this.connectionEl,
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
    if (this.menuEl) {
      // A click anywhere else closes the menu, as menus do.
      this._closeMenu = (event) => {
        if (this.menuEl.open && !this.menuEl.contains(event.target)) this.menuEl.open = false;
      };
      document.addEventListener("click", this._closeMenu);
    }
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

  flash(message) {
    this.flashEl.textContent = message;
    this.flashEl.hidden = false;
    clearTimeout(this._flashTimer);
    this._flashTimer = setTimeout(() => { this.flashEl.hidden = true; }, 2500);
  }

  // Read only what can be seen: the tab is showing and the window is not minimized.
  _markRead() {
    if (document.visibilityState === "visible" && !this.root.classList.contains("minimized")) {
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
  }

  _renderStatus() {
    const session = this.conversation.session;
    if (!session) return;
    let text = STATUS_TEXT[session.status] || session.status;
    if (session.status === "abandoned" && session.outside_hours) text = "Support is closed";
    if (session.status === "waiting" || session.status === "invited") {
      text += ` · ${formatDuration(this.clock() - Date.parse(session.requested_at))}`;
    }
    this.statusEl.textContent = text;
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
    if (!this.menuEl) return;
    const shown = this.menu.filter((item) => !item.when || item.when(session, this));
    const key = shown.map((item) => item.label).join("|");
    this.menuEl.hidden = !shown.length;
    if (key === this._menuKey) return;
    this._menuKey = key;
    this.menuList.replaceChildren(
      ...shown.map((item) =>
        el("button", {
          type: "button",
          role: "menuitem",
          class: "chat-menu-item",
          text: item.label,
          onclick: () => {
            this.menuEl.open = false;
            item.onClick(this);
          },
        }),
      ),
    );
  }

  _renderToolbar(session) {
    this._renderMenu(session);
    const shown = this.actions.filter((action) => !action.when || action.when(session, this));
    const key = shown.map((action) => action.label).join("|");
    if (key === this._toolbarKey) return;
    this._toolbarKey = key;
    this.toolbar.replaceChildren(
      ...shown
        .map((action) =>
          el("button", {
            type: "button",
            class: `btn btn-small ${action.className || ""}`,
            text: action.label,
            onclick: () => action.onClick(this),
          }),
        ),
    );
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
    // Files do not go out to SMS or WhatsApp (the server refuses them too).
    this.files.setEnabled(canSend && session.channel !== "sms" && session.channel !== "whatsapp");
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

  _renderLog(session) {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    let rows = this.conversation.ordered().map((message) => this._messageRow(message));
    // The console slots staff-only comments in between (chat/comments.js).
    if (this.interleave) rows = this.interleave(rows, this.conversation.ordered());
    for (const item of this.conversation.outbox) rows.push(this._pendingRow(item));
    if (session.status === "ended" || session.status === "declined") {
      rows.push(
        el("div", { class: "chat-line system ended" },
          el("span", { text: session.status === "ended" ? "The chat has ended." : "The invitation was declined." }),
          el("button", {
            type: "button", class: "btn btn-small", text: "Leave",
            onclick: () => this.onClose(this),
          })),
      );
    }
    this.log.replaceChildren(...rows);
    if (atBottom || rows.length < 3) this.log.scrollTop = this.log.scrollHeight;
    this._markRead();
  }

  _renderTyping() {
    const text = typingText(this.conversation.typingNames());
    if (this.typingEl.textContent !== text) this.typingEl.textContent = text;
  }

  // A message as a chat window shows it (log_rows.js): mine or theirs, with
  // read ticks, each file's node kept by the FileAttacher.
  _messageRow(message) {
    return messageRow(message, {
      side: (m) => (m.author && m.author.id === this.userId ? "mine" : "theirs"),
      tick: (m) => readTick(m, this.viewer),
      attachment: (attachment) => this.files.view(attachment),
    });
  }

  _pendingRow(item) {
    return el(
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
    );
  }

  destroy() {
    clearInterval(this._tick);
    clearTimeout(this._flashTimer);
    if (this._closeMenu) document.removeEventListener("click", this._closeMenu);
    document.removeEventListener("visibilitychange", this._onVisible);
    this.conversation.close();
    this.root.remove();
  }
}
