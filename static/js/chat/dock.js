// The docked chat windows of the console's pages other than the workspace
// (#chat-dock, bottom right): which one is "current" for the keyboard
// shortcuts (shortcuts.js), and moving between them. The workspace
// (workspace.js) answers the same questions for its panes.

export class DockNavigation {
  // dock: #chat-dock; windows: console.js's id -> ChatWindow; manager: the session manager.
  constructor(dock, windows, manager) {
    this.dock = dock;
    this.windows = windows;
    this.manager = manager;
    this.lastId = null;
    dock.addEventListener("focusin", (event) => {
      const node = event.target.closest(".chat-window");
      if (node) this.lastId = Number(node.dataset.sessionId);
    });
  }

  // The windows in the dock's order.
  _ordered() {
    return [...this.dock.querySelectorAll(":scope > .chat-window")]
      .map((node) => this.windows.get(Number(node.dataset.sessionId)))
      .filter(Boolean);
  }

  // The window with the focus, else the one last focused, else the newest.
  current() {
    const node = document.activeElement && document.activeElement.closest(".chat-window");
    if (node && this.dock.contains(node)) return this.windows.get(Number(node.dataset.sessionId)) || null;
    const ordered = this._ordered();
    return this.windows.get(this.lastId) || ordered[ordered.length - 1] || null;
  }

  step(delta) {
    const ordered = this._ordered();
    if (!ordered.length) return;
    const at = ordered.indexOf(this.current());
    const next = ordered[at < 0 ? 0 : (at + delta + ordered.length) % ordered.length];
    this._show(next);
  }

  focusComposer() {
    const win = this.current();
    if (win) this._show(win);
  }

  // The oldest request's Join in the session manager (opened if closed).
  focusQueue() {
    if (!this.manager) return;
    this.manager.open = true;
    const join = this.manager.querySelector(".sm-queue button");
    (join || this.manager.querySelector("summary")).focus();
  }

  _show(win) {
    win.reveal(); // unfolded, the focus in it
  }
}
