// Toasts, in the page's #toasts box (top left: portal/base.html and
// console/base.html): one-line messages, and toasts with a title, lines and
// buttons (chat requests, invitations, @mentions). What differs between
// callers (kind, role, lifetime, buttons) is theirs to say.
//
//   messageToast("Another agent has already taken this chat.", { timeout: 8000 })
//   actionToast({ kind: "toast-request", title: "Chat request", lines, actions, onDismiss })
//
// Text goes in with textContent (el's "text"): names and messages stay inert.

import { el } from "./dom.js";

// Show a toast; it goes by itself after `timeout` ms, or stays until dismissed.
function show(item, timeout) {
  const box = document.getElementById("toasts");
  if (!box) return false;
  box.append(item);
  if (timeout) setTimeout(() => item.remove(), timeout);
  return true;
}

// A message with a × to dismiss it. kind: error, info or warning (toast-<kind>);
// an info toast is a status, the others are alerts. A page without #toasts
// says it with window.alert instead.
export function messageToast(message, { kind = "error", role = kind === "info" ? "status" : "alert", timeout = null } = {}) {
  const item = el("div", { class: `toast toast-${kind}`, role },
    el("span", { text: message }),
    el("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", text: "×",
      onclick: () => item.remove() }));
  if (!show(item, timeout)) window.alert(message);
  return item;
}

// A toast asking for action: a bold title over `lines` (nodes), the `actions`
// (buttons or links; null ones are skipped) and Dismiss, which calls
// onDismiss (or just removes the toast). attrs: more attributes (data-…).
export function actionToast({ kind, attrs = {}, title, lines = [], actions = [], onDismiss = null, timeout = null }) {
  const item = el("div", { class: `toast ${kind}`, role: "alert", ...attrs },
    el("div", { class: "toast-text" }, el("strong", { text: title }), ...lines),
    el("div", { class: "toast-actions" },
      ...actions,
      el("button", { type: "button", class: "btn btn-small", text: "Dismiss",
        onclick: () => (onDismiss ? onDismiss() : item.remove()) })));
  show(item, timeout);
  return item;
}
