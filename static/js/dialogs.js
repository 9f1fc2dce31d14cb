// Modal dialogs: every <dialog> of the portal and the console opens through
// openModal(). showModal() makes the page behind it inert and closes it on
// Escape; on top of that:
// - Tab and Shift+Tab go round the dialog's controls (the browser would let
//   Tab leave for its own toolbar);
// - when it closes, the focus goes back to the control that opened it, or to
//   the page's heading when that control is gone: never to <body>. A caller
//   that puts the focus somewhere on purpose as it closes (into a new chat)
//   keeps it there.

const FOCUSABLE = [
  "a[href]", "button:not([disabled])", "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])", "textarea:not([disabled])", "summary", "[tabindex]",
].join(",");

const opened = new WeakMap(); // dialog -> { returnTo, focusedBefore } while it is open
const watched = new WeakSet(); // dialogs whose close gives the focus back

// The dialog's controls a Tab reaches, in order.
function tabbable(dialog) {
  return [...dialog.querySelectorAll(FOCUSABLE)].filter(
    (node) => node.tabIndex >= 0 && node.getClientRects().length > 0 && !node.closest("[inert]"));
}

// The top modal dialog keeps Tab: listened to on the document, so a focus
// that slipped out of the dialog (onto the page behind) comes back too.
function keepFocusInside(event) {
  if (event.key !== "Tab" || event.defaultPrevented) return;
  const dialogs = [...document.querySelectorAll("dialog[open]")].filter((d) => d.matches(":modal"));
  const dialog = dialogs[dialogs.length - 1];
  if (!dialog) return;
  const controls = tabbable(dialog);
  if (!controls.length) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  const inside = dialog.contains(document.activeElement);
  if (event.shiftKey && (!inside || document.activeElement === first)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
    event.preventDefault();
    first.focus();
  }
}

document.addEventListener("keydown", keepFocusInside);

function canTakeFocus(node) {
  return Boolean(node) && node !== document.body && node.isConnected
    && node.getClientRects().length > 0 && !node.closest("[inert]") && !node.matches(":disabled");
}

// The last resort: the page's heading, made focusable for this.
function pageHeading() {
  const heading = document.querySelector("main h1");
  if (heading && heading.tabIndex < 0) heading.tabIndex = -1;
  return heading;
}

// Focus the first of `targets` that can take it, else the page's heading:
// when what had the focus is gone, it never falls to nowhere.
export function focusOrPageHeading(...targets) {
  for (const target of [...targets, pageHeading()]) {
    if (!canTakeFocus(target)) continue;
    target.focus();
    if (document.activeElement === target) return;
  }
}

function giveFocusBack(dialog) {
  const state = opened.get(dialog);
  if (!state) return;
  opened.delete(dialog);
  // "close" comes after close() returned: the browser has put the focus back
  // on what had it before (or on <body>), unless the caller moved it since.
  const now = document.activeElement;
  const lost = !now || now === document.body || now === state.focusedBefore || dialog.contains(now);
  if (!lost) return;
  focusOrPageHeading(state.returnTo);
}

// Open `dialog` as a modal. first: the control to focus (default: the
// browser's choice, the dialog's first control). returnTo: where the focus
// goes when it closes (default: what has it now; an opener that awaits
// before opening passes the control it was opened from).
export function openModal(dialog, { first = null, returnTo = document.activeElement } = {}) {
  if (!watched.has(dialog)) {
    watched.add(dialog);
    dialog.addEventListener("close", () => giveFocusBack(dialog));
  }
  if (!dialog.open) {
    opened.set(dialog, { returnTo, focusedBefore: document.activeElement });
    dialog.showModal();
  }
  if (first) first.focus();
}
