// Modal dialogs keep the keyboard focus inside them, for every page that
// imports this module (console.js, portal.js). showModal() makes the page
// behind a dialog inert, but Tab past its last control still leaves for the
// browser's own toolbar; here Tab and Shift+Tab go round the dialog's
// controls instead. Escape closes a dialog (the browser's own), and closing
// gives the focus back to where it was before it opened (the browser's own
// too; a caller whose opener went away meanwhile focuses something else).

const FOCUSABLE = [
  "a[href]", "button:not([disabled])", "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])", "textarea:not([disabled])", "summary", "[tabindex]",
].join(",");

// The dialog's controls a Tab reaches, in order.
function tabbable(dialog) {
  return [...dialog.querySelectorAll(FOCUSABLE)].filter(
    (node) => node.tabIndex >= 0 && node.getClientRects().length > 0 && !node.closest("[inert]"));
}

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

if (!window.__switchboardDialogs) {
  window.__switchboardDialogs = true;
  document.addEventListener("keydown", keepFocusInside);
}
