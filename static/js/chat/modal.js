// Modal dialogs that keep the keyboard with them. showModal() already makes
// the page behind a dialog inert and closes it on Escape; on top of that
// Tab and Shift+Tab cycle inside the dialog, and when it closes, focus goes
// back to whatever opened it (a button of the page, the chat's menu).

const FOCUSABLE = [
  "a[href]", "button:not([disabled])", "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])", "textarea:not([disabled])", "[tabindex]:not([tabindex='-1'])",
].join(", ");

const openers = new WeakMap(); // dialog -> the element focused before it opened
const trapped = new WeakSet();

function focusables(dialog) {
  return [...dialog.querySelectorAll(FOCUSABLE)].filter((node) => node.getClientRects().length > 0);
}

function trap(dialog) {
  if (trapped.has(dialog)) return;
  trapped.add(dialog);
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const items = focusables(dialog);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  dialog.addEventListener("close", () => {
    const opener = openers.get(dialog);
    openers.delete(dialog);
    if (opener && opener.isConnected) opener.focus();
  });
}

// Open `dialog` as a modal and focus `first` (default: its first focusable).
// Focus returns to `returnTo` when it closes (default: what has focus now;
// pass the control the person sees when that is a menu item about to hide).
export function openModal(dialog, { first = null, returnTo = document.activeElement } = {}) {
  trap(dialog);
  openers.set(dialog, returnTo);
  if (!dialog.open) dialog.showModal();
  (first || focusables(dialog)[0])?.focus();
}
