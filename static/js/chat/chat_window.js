// One chat window: the portal's chat dialog and each docked window of the
// console. All text from people goes in with textContent, so HTML and
// scripts in a message, a name or a subject stay inert.

import { Conversation } from "./conversation.js";

let windowCount = 0;

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
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
  constructor(sessionId, { userId, viewer, onClose, actions = [], panel = null, clock = () => Date.now() }) {
    this.viewer = viewer;
    this.userId = userId;
    this.actions = actions;
    this.panel = panel;
    this.onClose = onClose || (() => {});
    this.clock = clock;
    this._toolbarKey = null;
    this.conversation = new Conversation(sessionId, {
      userId,
      onChange: () => this.render(),
    });
    this._build(sessionId);
    this._tick = setInterval(() => {
      this._renderStatus();
      // Buttons that appear with time (the client's End chat after a quiet hour).
      const session = this.conversation.session;
      if (session) this._renderToolbar(session);
    }, 1000);
  }

  get id() {
    return this.conversation.id;
  }

  _build(sessionId) {
    const inputId = `chat-input-${sessionId}-${++windowCount}`;
    this.titleEl = el("h2", { class: "chat-title", id: `chat-title-${inputId}` });
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
    this.log = el("div", { class: "chat-log", role: "log", "aria-live": "polite", tabindex: "0" });
    this.input = el("textarea", {
      id: inputId,
      class: "chat-input",
      rows: "2",
      placeholder: "Type a message",
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this._submit();
        }
      },
    });
    this.sendButton = el("button", { type: "submit", class: "btn btn-primary", text: "Send" });
    this.composeHint = el("p", { class: "chat-compose-hint" });
    this.errorEl = el("p", { class: "chat-error", role: "alert", hidden: true });
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
        el("div", { class: "chat-heading" }, this.titleEl, this.statusEl, this.connectionEl),
        el("div", { class: "chat-header-tools" }, this.minimizeButton, this.closeButton),
      ),
      el("div", { class: "chat-subheader" }, this.participantsEl, this.ticketLink, this.toolbar),
      this.log,
      this.errorEl,
      this.panel ? this.panel.root : null,
      this.composeHint,
      this.form,
    );
    this.root.addEventListener("focusin", () => this.conversation.markRead());
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

  _renderToolbar(session) {
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

  _renderCompose(session) {
    const open = session.status === "active";
    const agentHere = this.conversation.hasAgentInRoom();
    const canSend = open && (this.viewer === "agent" || agentHere);
    this.input.disabled = !canSend;
    this.sendButton.disabled = !canSend;
    let hint = "";
    if (session.status === "waiting") hint = "You can write as soon as an agent joins.";
    else if (session.status === "invited") hint = this.viewer === "agent" ? "Waiting for the client to accept." : "";
    else if (open && !agentHere && this.viewer === "client") hint = "Waiting for an agent to return.";
    else if (session.status === "callback") hint = "You asked to be called back; messages can no longer be sent.";
    else if (session.status === "abandoned" && session.outside_hours) hint = "Support is closed; chat opens again during office hours.";
    else if (session.status === "abandoned") hint = "This request has ended; messages can no longer be sent.";
    else if (!open) hint = "This chat has ended; messages can no longer be sent.";
    // The panel (nobody answered, support closed...) says it better.
    if (this.panel && !this.panel.root.hidden) hint = "";
    this.composeHint.textContent = hint;
    this.composeHint.hidden = !hint;
  }

  _renderLog(session) {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const rows = this.conversation.ordered().map((message) => this._messageRow(message, session));
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
    if (document.visibilityState === "visible") this.conversation.markRead();
  }

  _messageRow(message, session) {
    if (message.kind === "system") {
      return el("div", { class: "chat-line system", "data-seq": String(message.seq) },
        el("span", { text: message.body }),
        el("time", { datetime: message.created_at, text: formatTime(message.created_at) }));
    }
    const mine = message.author && message.author.id === this.userId;
    const readers = session.participants.filter(
      (p) => p.user.id !== (message.author && message.author.id) && p.in_room,
    );
    const readByAll = mine && readers.length > 0 && readers.every((p) => p.last_read_seq >= message.seq);
    return el(
      "div",
      { class: `chat-line ${mine ? "mine" : "theirs"}`, "data-seq": String(message.seq) },
      el("div", { class: "chat-meta" },
        el("strong", { text: message.author ? message.author.name : "Unknown" }),
        el("time", { datetime: message.created_at, text: formatTime(message.created_at) }),
        mine ? el("span", { class: `chat-tick${readByAll ? " read" : ""}`, title: readByAll ? "Read" : "Delivered", text: readByAll ? "✓✓" : "✓" }) : null),
      el("div", { class: "chat-body", text: message.body }),
    );
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
    this.root.remove();
  }
}
