// The browser's side of the no-loss message protocol for one chat.
//
// - Messages are kept by seq; `lastSeq` is the highest seq received with no
//   gap before it. A message past a gap is held back and the gap is fetched
//   with chat.history; a message at or below lastSeq is a duplicate and dropped.
// - On every (re)connect the chat is re-opened with chat.open{last_seq}: the
//   server replays what was missed, from the database.
// - The heartbeat's pong names the last seq of every chat the socket hears
//   (chat/frames/heartbeat.py): one past lastSeq is a message whose event was
//   lost, fetched like a gap, also when nothing came after it.
// - What the user sends goes into an outbox first (kept in localStorage, so a
//   reload loses nothing typed) with a client_id; it is resent with the same
//   client_id until the server acknowledges it, and the server stores it once.
// - readOnly: a supervisor watching the chat (supervisor.js). It syncs with
//   chat.watch instead of chat.open and sends nothing: no chat.send (no
//   outbox), no chat.read, no chat.typing.

import { getSocket } from "../socket.js";

const READ_DEBOUNCE_MS = 800;
// Typing: tell the others at most this often while typing; show what we are
// told for this long unless it is repeated (or the typist's message arrives).
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;

export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // crypto.randomUUID needs a secure context; getRandomValues does not.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The side of a message's author for read receipts: the client, or staff.
export function sideOf(author) {
  return author && author.role === "client" ? "client" : "agent";
}

function outboxKey(userId, sessionId) {
  return `switchboard.outbox.${userId}.${sessionId}`;
}

export class Conversation {
  constructor(sessionId, { userId, onChange, readOnly = false } = {}) {
    this.id = sessionId;
    this.userId = userId;
    this.readOnly = readOnly;
    this.closed = false;
    this.session = null;
    this.messages = new Map(); // seq -> message
    this.lastSeq = 0;
    this.held = new Map(); // seq -> message received past a gap
    this.outbox = readOnly ? [] : this._loadOutbox(); // [{client_id, body, error?}]
    this.inflight = new Set(); // client_ids with a chat.send awaiting its ack
    this.fetching = false;
    this.readSent = 0;
    this._readTimer = null;
    this.typing = new Map(); // user id -> {name, until}: others typing now
    this._typingSentAt = 0;
    this.onChange = onChange || (() => {});
    this.socket = getSocket();
    // Read receipts, typing and the heartbeat come to every open chat alike.
    this._off = [
      this.socket.on("chat.read", (frame) => { if (frame.session_id === this.id) this.applyRead(frame); }),
      this.socket.on("chat.typing", (frame) => { if (frame.session_id === this.id) this.applyTyping(frame); }),
      this.socket.on("chat.delivery", (frame) => { if (frame.session_id === this.id) this.applyDelivery(frame); }),
      this.socket.on("pong", (frame) => this.applyHeartbeat(frame)),
    ];
  }

  close() {
    this.closed = true;
    clearTimeout(this._readTimer);
    for (const off of this._off) off();
  }

  // --- state from the server ------------------------------------------------------
  applySession(session) {
    // Two daphne processes may deliver two changes of one chat in either
    // order; every change that writes a line moves last_seq, so a state
    // older than the one shown is dropped.
    if (this.session && session.last_seq < this.session.last_seq) return;
    this.session = session;
    this.onChange("session");
  }

  applyState(frame) {
    if (frame.session) this.applySession(frame.session);
    this.ingestMany(frame.messages || []);
    if (frame.has_more) this.fetchGap();
  }

  ingestMany(messages) {
    let changed = false;
    for (const message of messages) changed = this._ingest(message) || changed;
    if (changed) this.onChange("messages");
  }

  ingest(message) {
    if (this._ingest(message)) this.onChange("messages");
  }

  _ingest(message) {
    const seq = message.seq;
    if (seq <= this.lastSeq || this.messages.has(seq)) return false; // duplicate
    this._acknowledge(message.client_id);
    if (seq !== this.lastSeq + 1) {
      this.held.set(seq, message);
      this.fetchGap();
      return false;
    }
    this.messages.set(seq, message);
    this.lastSeq = seq;
    // Their message is here: they are no longer typing it.
    if (message.author) this.typing.delete(message.author.id);
    // Release what was held back once the gap before it is filled.
    while (this.held.has(this.lastSeq + 1)) {
      const next = this.held.get(this.lastSeq + 1);
      this.held.delete(this.lastSeq + 1);
      this.messages.set(next.seq, next);
      this.lastSeq = next.seq;
    }
    return true;
  }

  // The pong of the socket's heartbeat: {chat_seqs: {"<session id>": last_seq}}.
  applyHeartbeat(frame) {
    const lastSeq = frame.chat_seqs ? frame.chat_seqs[this.id] : undefined;
    if (typeof lastSeq === "number" && lastSeq > this.lastSeq) this.fetchGap();
  }

  async fetchGap() {
    if (this.fetching) return;
    this.fetching = true;
    try {
      for (;;) {
        const page = await this.socket.request({
          type: "chat.history",
          session_id: this.id,
          after_seq: this.lastSeq,
        });
        if (this.closed) break; // the window closed, the watch moved on
        this.ingestMany(page.messages || []);
        if (!page.has_more || !(page.messages || []).length) break;
      }
    } catch (error) {
      // Retried on the next reconnect (chat.open replays from lastSeq).
      console.warn("fetching missed messages failed", error);
    } finally {
      this.fetching = false;
    }
  }

  // Called on every (re)connect: replay what we missed, then resend the outbox.
  // A watch replays with chat.watch, whose reply (chat.watching) also carries
  // the staff comments, for the caller.
  async sync() {
    const state = await this.socket.request({
      type: this.readOnly ? "chat.watch" : "chat.open",
      session_id: this.id,
      last_seq: this.lastSeq,
    });
    this.applyState(state);
    this.flushOutbox();
    return state;
  }

  // --- sending ------------------------------------------------------------------------
  send(body) {
    if (this.readOnly) return;
    const item = { client_id: newClientId(), body };
    this._typingSentAt = 0; // typing the next message is news again
    // Keep typing order: while the socket is down, or an earlier message
    // still waits for its resend, this one waits too; sync() sends them all
    // in order (frames on one socket are handled one after another).
    const waiting = this.outbox.some((queued) => !queued.error && !this.inflight.has(queued.client_id));
    this.outbox.push(item);
    this._saveOutbox();
    this.onChange("outbox");
    if (this.socket.state === "open" && !waiting) this._deliver(item);
  }

  flushOutbox() {
    for (const item of this.outbox) {
      if (!item.error && !this.inflight.has(item.client_id)) this._deliver(item);
    }
  }

  async _deliver(item) {
    this.inflight.add(item.client_id);
    try {
      const ack = await this.socket.request({
        type: "chat.send",
        session_id: this.id,
        client_id: item.client_id,
        body: item.body,
      });
      this.inflight.delete(item.client_id);
      this.ingest(ack.message);
      this._acknowledge(item.client_id);
    } catch (error) {
      this.inflight.delete(item.client_id);
      const transient = ["disconnected", "timeout", "dropped", "closed"].includes(error.code);
      if (!transient) {
        // The server refused it (chat ended, too long...): keep the text
        // visible with the reason, so the user can copy it.
        item.error = error.message || error.code;
        this._saveOutbox();
        this.onChange("outbox");
      }
      // Transient failures stay in the outbox; the next hello resends them
      // with the same client_id and the server stores them once.
    }
  }

  discard(clientId) {
    this.outbox = this.outbox.filter((item) => item.client_id !== clientId);
    this._saveOutbox();
    this.onChange("outbox");
  }

  _acknowledge(clientId) {
    if (!clientId) return;
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((item) => item.client_id !== clientId);
    if (this.outbox.length !== before) {
      this._saveOutbox();
      this.onChange("outbox");
    }
  }

  // --- read markers -------------------------------------------------------------------
  markRead() {
    // A supervisor watching is no participant: it never marks anything read
    // (the server ignores it anyway; this saves the frame).
    if (this.readOnly || !this.isParticipant() || this.lastSeq <= this.readSent) return;
    // At most one read per READ_DEBOUNCE_MS, carrying the newest seq when it
    // goes: restarting the wait on every render would hold receipts back for
    // as long as messages keep coming.
    if (this._readTimer) return;
    this._readTimer = setTimeout(() => {
      this._readTimer = null;
      const seq = this.lastSeq;
      this.socket.request({ type: "chat.read", session_id: this.id, seq }).then(
        () => { this.readSent = Math.max(this.readSent, seq); },
        () => {},
      );
    }, READ_DEBOUNCE_MS);
  }

  // Someone's read marker moved. With read_at, the other side's messages up to
  // seq were read just now: the same rule as chat/receipts.py, so the ticks
  // match what a reload would show.
  // How far a message sent to an SMS/WhatsApp client got (chat.channels).
  applyDelivery(frame) {
    const message = this.messages.get(frame.seq);
    if (!message) return; // not here yet: its replay carries the state
    message.delivery = frame.delivery;
    this.onChange("delivery");
  }

  applyRead(frame) {
    const participants = (this.session && this.session.participants) || [];
    for (const p of participants) {
      if (p.user.id === frame.user_id) p.last_read_seq = Math.max(p.last_read_seq, frame.seq);
    }
    if (frame.read_at) {
      for (const message of this.messages.values()) {
        if (message.seq > frame.seq || !["text", "file"].includes(message.kind) || message.read_at || !message.author) continue;
        if (sideOf(message.author) !== frame.side) message.read_at = frame.read_at;
      }
    }
    this.onChange("read");
  }

  // --- typing -------------------------------------------------------------------------
  // Called on every keystroke; sends chat.typing at most every TYPING_EVERY_MS.
  noteTyping() {
    const now = Date.now();
    if (this.readOnly || now - this._typingSentAt < TYPING_EVERY_MS || this.socket.state !== "open") return;
    if (!this.session || this.session.status !== "active" || !this.isParticipant()) return;
    this._typingSentAt = now;
    // Not queued while offline (request only when open): stale news is no news.
    this.socket.request({ type: "chat.typing", session_id: this.id }).catch(() => {});
  }

  applyTyping(frame) {
    if (!frame.user || frame.user.id === this.userId) return;
    this.typing.set(frame.user.id, { name: frame.user.name, until: Date.now() + TYPING_SHOWN_MS });
    this.onChange("typing");
  }

  // Names of the others typing now (expired entries dropped).
  typingNames() {
    const now = Date.now();
    for (const [id, entry] of this.typing) if (entry.until <= now) this.typing.delete(id);
    return [...this.typing.values()].map((entry) => entry.name);
  }

  // --- helpers ------------------------------------------------------------------------
  isParticipant() {
    const participants = (this.session && this.session.participants) || [];
    return participants.some((p) => p.user.id === this.userId && p.in_room);
  }

  ordered() {
    return [...this.messages.values()].sort((a, b) => a.seq - b.seq);
  }

  hasAgentInRoom() {
    const participants = (this.session && this.session.participants) || [];
    return participants.some((p) => p.role === "agent" && p.in_room);
  }

  _loadOutbox() {
    try {
      const raw = window.localStorage.getItem(outboxKey(this.userId, this.id));
      return raw ? JSON.parse(raw) : [];
    } catch {
      return [];
    }
  }

  _saveOutbox() {
    try {
      const key = outboxKey(this.userId, this.id);
      if (this.outbox.length) window.localStorage.setItem(key, JSON.stringify(this.outbox));
      else window.localStorage.removeItem(key);
    } catch {
      // Storage full or disabled: the in-memory outbox still works.
    }
  }
}
