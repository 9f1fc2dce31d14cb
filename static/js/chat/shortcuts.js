// The console's keyboard shortcuts and the "?" dialog that lists them
// (README, "Keyboard"). Every action is also a button; these save the trips.
// None of them types anything in the message box: the arrows with Alt, and
// letters with Ctrl+Alt (a letter that Ctrl+Alt or AltGr turns into another
// character on the keyboard's layout, say € or ó, is left to be typed).
// "?" works where nothing is being typed.
//
//   installShortcuts({ next, previous, composer, end, menu, queue });  // console.js

import { openModal } from "../dialogs.js";
import { el } from "../dom.js";

function typing(target) {
  return Boolean(target && target.closest && target.closest("input, textarea, select, [contenteditable]"));
}

function altArrow(key) {
  return (event) => event.key === key && event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey
    && !(event.target && event.target.closest && event.target.closest("select"));
}

function ctrlAlt(letter) {
  return (event) => event.ctrlKey && event.altKey && !event.shiftKey && !event.metaKey
    && event.code === `Key${letter.toUpperCase()}`
    && !event.getModifierState("AltGraph")
    && (event.key.length !== 1 || event.key.toLowerCase() === letter);
}

// keys: as the dialog and the README show them; aria: aria-keyshortcuts' spelling.
export const SHORTCUTS = [
  { keys: ["Alt", "↓"], aria: "Alt+ArrowDown", what: "Next chat", action: "next", match: altArrow("ArrowDown") },
  { keys: ["Alt", "↑"], aria: "Alt+ArrowUp", what: "Previous chat", action: "previous", match: altArrow("ArrowUp") },
  { keys: ["Ctrl", "Alt", "M"], aria: "Control+Alt+M", what: "Go to the message box", action: "composer", match: ctrlAlt("m") },
  { keys: ["Ctrl", "Alt", "E"], aria: "Control+Alt+E", what: "End chat", action: "end", match: ctrlAlt("e") },
  { keys: ["Ctrl", "Alt", "O"], aria: "Control+Alt+O", what: "Open the chat's ⋯ menu (More actions)", action: "menu", match: ctrlAlt("o") },
  { keys: ["Ctrl", "Alt", "Q"], aria: "Control+Alt+Q", what: "Go to the queue (Join of the longest wait)", action: "queue", match: ctrlAlt("q") },
  { keys: ["?"], aria: "?", what: "Show these shortcuts", action: "help",
    match: (event) => event.key === "?" && !event.ctrlKey && !event.altKey && !event.metaKey && !typing(event.target) },
];

// Keys that work as they do everywhere, listed in the dialog too: each of
// `keys` alone does it.
const EVERYWHERE = [
  { keys: ["Enter"], what: "In the message box: send (Shift+Enter: a new line)" },
  { keys: ["Tab"], what: "The next control (Shift+Tab: the previous one)" },
  { keys: ["Enter", "Space"], what: "Press the focused button" },
  { keys: ["↓", "↑", "Home", "End"], what: "Move in an open menu" },
  { keys: ["Esc"], what: "Close a menu or a dialog" },
];

let dialog = null;

// <kbd>s joined by `between`: "+" for keys pressed together, " / " for either.
function keysOf(keys, between) {
  return keys.flatMap((key, index) => [index ? between : null, el("kbd", { text: key })]).filter(Boolean);
}

function buildDialog() {
  const close = el("button", { type: "button", class: "btn btn-secondary", text: "Close" });
  const rows = [
    ...SHORTCUTS.map((s) => [keysOf(s.keys, "+"), s.what]),
    ...EVERYWHERE.map((s) => [keysOf(s.keys, " / "), s.what]),
  ];
  const node = el("dialog", { class: "chat-tool-dialog shortcuts-dialog", "aria-labelledby": "shortcuts-title" },
    el("h2", { id: "shortcuts-title", text: "Keyboard shortcuts" }),
    el("dl", { class: "shortcuts-list" },
      ...rows.flatMap(([keys, what]) => [el("dt", {}, ...keys), el("dd", { text: what })])),
    el("div", { class: "dialog-actions" }, close));
  close.addEventListener("click", () => node.close());
  document.body.append(node);
  return node;
}

export function showShortcuts() {
  dialog = dialog || buildDialog();
  openModal(dialog);
}

// actions: { next, previous, composer, end, menu, queue }: what each shortcut does.
export function installShortcuts(actions) {
  const all = { ...actions, help: showShortcuts };
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    // A dialog is answered first; its own keys (Esc, Tab) are the browser's.
    if (document.querySelector("dialog[open]:modal")) return;
    const shortcut = SHORTCUTS.find((s) => s.match(event));
    if (!shortcut) return;
    event.preventDefault();
    all[shortcut.action]();
  });
  for (const button of document.querySelectorAll("[data-shortcuts-open]")) {
    button.addEventListener("click", showShortcuts);
  }
}
