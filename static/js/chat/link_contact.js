// Link to contact: in an SMS or WhatsApp chat from a number no contact has,
// the agent searches the contacts and links the chat to one (the server
// checks who may: chat/agent_tools/contacts.py). Names and companies go in as
// text.

import { openModal } from "../dialogs.js";
import { el } from "../dom.js";

let dialog = null;

// The "⋯" menu item of an agent's chat window; onLinked(session) after a link.
export function linkContactItem(socket, { onLinked }) {
  return {
    label: "Link to contact…",
    when: (s) => (s.channel === "sms" || s.channel === "whatsapp") && !s.contact,
    onClick: (win) => open(socket, win, onLinked),
  };
}

function build(socket) {
  const search = el("input", { type: "search", id: "link-contact-query", autocomplete: "off",
    placeholder: "Name, email, phone or company" });
  const list = el("ul", { class: "link-contact-list", "aria-label": "Contacts found" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const close = el("button", { type: "button", class: "btn btn-link", text: "Cancel" });
  const node = el("dialog", { class: "chat-tool-dialog link-contact-dialog", "aria-labelledby": "link-contact-title" },
    el("h2", { id: "link-contact-title", text: "Link to contact" }),
    el("p", { class: "muted", text: "Whose number is this? The chat gets the contact's company, and the contact "
      + "keeps the number when it has no phone yet." }),
    el("label", { for: "link-contact-query", text: "Find a contact" }), search, error, list,
    el("div", { class: "dialog-actions" }, close));
  close.addEventListener("click", () => node.close());
  document.body.append(node);
  const state = { node, search, list, error, win: null, onLinked: null, timer: null };
  search.addEventListener("input", () => {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => find(socket, state), 250);
  });
  return state;
}

function open(socket, win, onLinked) {
  dialog = dialog || build(socket);
  Object.assign(dialog, { win, onLinked });
  dialog.search.value = "";
  dialog.list.replaceChildren();
  dialog.error.hidden = true;
  openModal(dialog.node, { first: dialog.search });
}

async function find(socket, state) {
  const query = state.search.value.trim();
  if (query.length < 2) return state.list.replaceChildren();
  try {
    const reply = await socket.request({ type: "chat.contact_candidates", session_id: state.win.id, query });
    state.error.hidden = true;
    state.list.replaceChildren(...(reply.contacts.length
      ? reply.contacts.map((c) => el("li", {},
        el("span", { class: "link-contact-name", text: `${c.name} · ${c.company}` }),
        el("span", { class: "muted", text: ` ${c.email || ""} ${c.phone || ""}` }),
        el("button", { type: "button", class: "btn btn-small btn-primary", text: "Link",
          "aria-label": `Link to ${c.name}`, onclick: () => link(socket, state, c.id) })))
      : [el("li", { class: "muted", text: "No contact found." })]));
  } catch (err) {
    state.error.textContent = err.message;
    state.error.hidden = false;
  }
}

async function link(socket, state, contactId) {
  try {
    const reply = await socket.request({ type: "chat.link_contact", session_id: state.win.id, contact_id: contactId });
    state.node.close();
    state.onLinked(reply.session);
  } catch (err) {
    state.error.textContent = err.message;
    state.error.hidden = false;
  }
}
