// The one websocket of a console or portal tab (/ws/), shared by every widget.
//
//   import { getSocket } from "./socket.js";
//   const socket = getSocket();                       // singleton, already started
//   const off = socket.on("presence.changed", (frame) => { ... });
//   socket.onState((state) => { ... });              // connecting | open | reconnecting | unauthenticated | closed
//   socket.send({ type: "presence.set", status: "away" });        // queued while disconnected
//   const reply = await socket.request({ type: "presence.snapshot" }); // resolved by the reply with the same ref
//
// request() rejects with a SocketError: code "disconnected" when the socket
// dropped after the frame was sent (the caller decides whether a retry is
// safe, e.g. chat.send with the same client_id), "timeout", or the server's
// error code ("forbidden", "invalid", ...). The server's "hello" frame is
// emitted on every (re)connect: re-read state there (snapshots, replay by seq).

const DEFAULTS = {
  minDelayMs: 500,
  maxDelayMs: 10000,
  requestTimeoutMs: 15000,
  queueLimit: 500,
  heartbeatSeconds: 20, // replaced by the server's hello.heartbeat_seconds
};

// Close codes the server uses (realtime/consumer.py).
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FLOODING = 4429;

export class SocketError extends Error {
  constructor(code, message, frame = null) {
    super(message || code);
    this.name = "SocketError";
    this.code = code;
    this.frame = frame;
    this.fields = frame && frame.fields ? frame.fields : null;
  }
}

function resolveUrl(url) {
  const absolute = new URL(url || "/ws/", window.location.href);
  if (absolute.protocol === "http:") absolute.protocol = "ws:";
  if (absolute.protocol === "https:") absolute.protocol = "wss:";
  return absolute.toString();
}

export class SwitchboardSocket {
  constructor(url, options = {}) {
    this.url = resolveUrl(url);
    this.options = { ...DEFAULTS, ...options };
    this.state = "idle";
    this.hello = null;
    this._ws = null;
    this._attempt = 0;
    this._everOpened = false;
    this._queue = []; // frames waiting for an open socket
    this._pending = new Map(); // ref -> {resolve, reject, timer, sent}
    this._handlers = new Map(); // type -> Set(fn); "*" gets every frame
    this._stateHandlers = new Set();
    this._nextRef = 1;
    this._retryTimer = null;
    this._pingTimer = null;
    this._lastFrameAt = 0;
    this._stopped = false;
    this._onOnline = () => this._retryNow();
  }

  // --- lifecycle -------------------------------------------------------------
  start() {
    this._stopped = false;
    window.addEventListener("online", this._onOnline);
    if (!this._ws && !this._retryTimer) this._connect();
    return this;
  }

  stop() {
    this._stopped = true;
    window.removeEventListener("online", this._onOnline);
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._teardown(1000);
    this._failPending(new SocketError("closed", "The connection was closed."), true);
    this._setState("closed");
  }

  // --- subscriptions -----------------------------------------------------------
  on(type, fn) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(fn);
    return () => this._handlers.get(type).delete(fn);
  }

  onState(fn) {
    this._stateHandlers.add(fn);
    fn(this.state);
    return () => this._stateHandlers.delete(fn);
  }

  // --- sending -------------------------------------------------------------------
  send(frame) {
    if (this.state === "open" && this._ws && this._ws.readyState === WebSocket.OPEN) {
      this._ws.send(JSON.stringify(frame));
      return true;
    }
    if (this._queue.length >= this.options.queueLimit) {
      // Keep the newest: an old queued frame is the least likely to matter.
      const dropped = this._queue.shift();
      if (dropped.ref != null) this._settle(dropped.ref, null, new SocketError("dropped", "Too many unsent frames."));
    }
    this._queue.push(frame);
    return false;
  }

  request(frame, { timeoutMs } = {}) {
    const ref = frame.ref != null ? frame.ref : `r${this._nextRef++}`;
    const withRef = { ...frame, ref };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this._settle(ref, null, new SocketError("timeout", "No answer from the server.")),
        timeoutMs || this.options.requestTimeoutMs,
      );
      const entry = { resolve, reject, timer, sent: false };
      this._pending.set(ref, entry);
      entry.sent = this.send(withRef);
    });
  }

  // --- internals -----------------------------------------------------------------
  _setState(state, detail) {
    if (this.state === state) return;
    this.state = state;
    for (const fn of [...this._stateHandlers]) {
      try {
        fn(state, detail);
      } catch (error) {
        console.error(error);
      }
    }
  }

  _connect() {
    this._retryTimer = null;
    if (this._stopped) return;
    this._setState(this._everOpened ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this._scheduleRetry();
      return;
    }
    this._ws = ws;
    ws.onmessage = (event) => this._onMessage(event);
    ws.onclose = (event) => this._onClose(ws, event.code);
    // onerror is always followed by onclose; nothing to do here.
    ws.onerror = () => {};
  }

  _onMessage(event) {
    this._lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "hello") this._onHello(frame);
    if (frame.ref != null && this._pending.has(frame.ref)) {
      if (frame.type === "error") {
        this._settle(frame.ref, null, new SocketError(frame.code, frame.message, frame));
      } else {
        this._settle(frame.ref, frame, null);
      }
    }
    this._emit(frame.type, frame);
    this._emit("*", frame);
  }

  _onHello(frame) {
    this.hello = frame;
    this._attempt = 0;
    this._everOpened = true;
    this._setState("open");
    this._startHeartbeat(frame.heartbeat_seconds || this.options.heartbeatSeconds);
    // Flush in order; frames of requests are marked as sent.
    const queued = this._queue;
    this._queue = [];
    for (const item of queued) {
      this._ws.send(JSON.stringify(item));
      const entry = item.ref != null ? this._pending.get(item.ref) : null;
      if (entry) entry.sent = true;
    }
  }

  _emit(type, frame) {
    const handlers = this._handlers.get(type);
    if (!handlers) return;
    for (const fn of [...handlers]) {
      try {
        fn(frame);
      } catch (error) {
        console.error(error);
      }
    }
  }

  _startHeartbeat(seconds) {
    clearInterval(this._pingTimer);
    const intervalMs = Math.max(1, seconds) * 1000;
    this._lastFrameAt = Date.now();
    this._pingTimer = setInterval(() => {
      if (!this._ws || this._ws.readyState !== WebSocket.OPEN) return;
      // A socket that carried nothing for two periods is dead even if the
      // browser has not noticed (sleeping laptop, dropped NAT entry).
      if (Date.now() - this._lastFrameAt > intervalMs * 2 + 5000) {
        this._onClose(this._ws, 4000);
        return;
      }
      this._ws.send('{"type":"ping"}');
    }, intervalMs);
  }

  _teardown(code) {
    clearInterval(this._pingTimer);
    this._pingTimer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(code === 1000 ? 1000 : 4000);
      } catch (error) {
        /* already closed */
      }
    }
  }

  _onClose(ws, code) {
    if (ws !== this._ws) return; // a socket we already gave up on
    this._teardown(code);
    // Frames sent on the dead socket may or may not have been handled.
    this._failPending(new SocketError("disconnected", "The connection dropped."), false);
    if (this._stopped) return;
    if (code === CLOSE_UNAUTHENTICATED) {
      this._failPending(new SocketError("unauthenticated", "Please log in again."), true);
      this._setState("unauthenticated", { code });
      return;
    }
    this._setState(this._everOpened ? "reconnecting" : "connecting", { code });
    this._scheduleRetry(code === CLOSE_FLOODING ? 5000 : 0);
  }

  _scheduleRetry(minimumMs = 0) {
    const { minDelayMs, maxDelayMs } = this.options;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** this._attempt);
    this._attempt += 1;
    // "Equal jitter": never hammer the server all at once after a restart.
    const delay = Math.max(minimumMs, ceiling / 2 + Math.random() * (ceiling / 2));
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => this._connect(), delay);
  }

  _retryNow() {
    if (this._retryTimer && !this._stopped) {
      clearTimeout(this._retryTimer);
      this._connect();
    }
  }

  _failPending(error, includeQueued) {
    for (const [ref, entry] of [...this._pending]) {
      if (entry.sent || includeQueued) this._settle(ref, null, error);
    }
    if (includeQueued) this._queue = [];
  }

  _settle(ref, frame, error) {
    const entry = this._pending.get(ref);
    if (!entry) return;
    this._pending.delete(ref);
    clearTimeout(entry.timer);
    if (error) {
      // Never send a request the caller already gave up on.
      this._queue = this._queue.filter((item) => item.ref !== ref);
      entry.reject(error);
    } else {
      entry.resolve(frame);
    }
  }
}

// One socket per tab, whichever URL this module was loaded under (a hashed
// static URL and a relative import would otherwise make two module copies).
export function getSocket() {
  if (!window.__switchboardSocket) {
    const meta = document.querySelector('meta[name="ws-url"]');
    window.__switchboardSocket = new SwitchboardSocket(meta ? meta.content : "/ws/").start();
  }
  return window.__switchboardSocket;
}

export default getSocket;
