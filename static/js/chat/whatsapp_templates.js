// Send template… in a WhatsApp chat's window: once the client's 24-hour
// window has closed only an approved template may go out (the server refuses
// free text: chat/whatsapp_window.py). The agent picks one, fills in its
// values and sends it; the chat shows the filled text with its delivery tick.

import { openModal } from "../dialogs.js";
import { el } from "../dom.js";
import { newClientId } from "./conversation.js";
import { TemplatePicker } from "./template_picker.js";

let socket = null;
let state = null;

// The "⋯" menu item of an agent's chat window (templates also go inside the window).
export function templateMenuItem(theSocket) {
  socket = theSocket;
  return {
    label: "Send WhatsApp template…",
    when: (s) => s.channel === "whatsapp" && s.status === "active",
    // Focus comes back to the menu's button (its item hides as the menu closes).
    onClick: (win) => openTemplateDialog(win, win.menuEl.querySelector("summary")),
  };
}

function build() {
  const picker = new TemplatePicker("wa-send");
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "btn btn-primary", text: "Send template" });
  const cancel = el("button", { type: "button", class: "btn btn-link", text: "Cancel" });
  const intro = el("p", { class: "muted" });
  const form = el("form", { method: "dialog", novalidate: true },
    el("h2", { id: "wa-send-title", text: "Send a WhatsApp template" }), intro, error, picker.root,
    el("div", { class: "dialog-actions" }, cancel, submit));
  const dialog = el("dialog", { class: "chat-tool-dialog wa-template-dialog", "aria-labelledby": "wa-send-title" },
    form);
  document.body.append(dialog);
  cancel.addEventListener("click", () => dialog.close());
  const built = { dialog, picker, error, submit, intro, win: null };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = picker.problem();
    if (problem) return showError(built, problem);
    submit.disabled = true;
    try {
      const ack = await socket.request({
        type: "chat.send_template", session_id: built.win.id, template_id: picker.template.id,
        values: picker.values(), client_id: newClientId(),
      });
      built.win.conversation.ingest(ack.message);
      dialog.close();
    } catch (err) {
      showError(built, err.message);
    } finally {
      submit.disabled = false;
    }
  });
  return built;
}

function showError(built, message) {
  built.error.textContent = message;
  built.error.hidden = !message;
}

// returnTo: where focus goes when the dialog closes (default: what has it now).
export async function openTemplateDialog(win, returnTo = document.activeElement) {
  state = state || build();
  state.win = win;
  showError(state, "");
  const session = win.conversation.session;
  state.intro.textContent = `To ${session.client.name} (${session.client_address}) on WhatsApp.`;
  try {
    const reply = await socket.request({ type: "chat.whatsapp_templates" });
    state.picker.setTemplates(reply.templates);
  } catch (err) {
    state.picker.setTemplates([]);
    showError(state, err.message);
  }
  openModal(state.dialog, { first: state.picker.firstInput(), returnTo });
}
