// Message customer: from a closed chat (the supervisor's Closed tab, a
// ticket's Chat history, a phone follow-up card) or a console ticket page,
// the agent picks a channel the client can be reached on and writes the
// first message (on WhatsApp outside the 24-hour window: a template). The
// server starts a new chat with the agent in it (chat/reach_out/); the
// console then opens its window. What the server says about the client and
// its addresses goes in as text.

import { openModal } from "../dialogs.js";
import { el } from "../dom.js";
import { newClientId } from "./conversation.js";
import { TemplatePicker } from "./template_picker.js";

let socket = null;
let onStarted = () => {};
let dialog = null;

// Buttons with data-reach-out-session="<chat id>" or data-reach-out-ticket="<ticket id>"
// open the dialog; onStarted(state) gets the new chat's chat.state.
export function installReachOut({ socket: theSocket, onStarted: started }) {
  socket = theSocket;
  onStarted = started;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-reach-out-session], [data-reach-out-ticket]");
    if (!button) return;
    const { reachOutSession, reachOutTicket } = button.dataset;
    openReachOut(reachOutSession ? { session_id: Number(reachOutSession) }
      : { ticket_id: Number(reachOutTicket) }, button);
  });
}

function build() {
  const to = el("p", { class: "reach-to" });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const channels = el("div", { class: "reach-channels" });
  const channelSet = el("fieldset", { class: "reach-channel-set" }, el("legend", { text: "Send by" }), channels);
  const body = el("textarea", { id: "reach-body", rows: "4", maxlength: "10000" });
  const text = el("div", { class: "field reach-text" }, el("label", { for: "reach-body", text: "Message" }), body);
  const windowNote = el("p", { class: "reach-window-note", hidden: true,
    text: "The 24-hour window has closed: send an approved template" });
  const picker = new TemplatePicker("reach");
  const template = el("div", { class: "reach-template", hidden: true }, windowNote, picker.root);
  const submit = el("button", { type: "submit", class: "btn btn-primary", text: "Send" });
  const cancel = el("button", { type: "button", class: "btn btn-link", text: "Cancel" });
  const form = el("form", { method: "dialog", novalidate: true },
    el("h2", { id: "reach-title", text: "Message customer" }), to, error, channelSet, text, template,
    el("div", { class: "dialog-actions" }, cancel, submit));
  const node = el("dialog", { class: "chat-tool-dialog reach-dialog", "aria-labelledby": "reach-title" }, form);
  document.body.append(node);
  cancel.addEventListener("click", () => node.close());
  const state = { node, to, error, channels, body, text, template, windowNote, picker, submit,
    source: null, options: [] };
  channels.addEventListener("change", () => showComposer(state));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(state);
  });
  return state;
}

function showError(state, message) {
  state.error.textContent = message;
  state.error.hidden = !message;
}

function chosen(state) {
  const radio = state.channels.querySelector("input[name=reach-channel]:checked");
  return radio ? state.options.find((o) => o.channel === radio.value) : null;
}

// Free text, or (WhatsApp outside the window) the template picker.
function showComposer(state) {
  const option = chosen(state);
  const templateOnly = Boolean(option && option.template_only);
  state.text.hidden = templateOnly;
  state.template.hidden = !templateOnly;
  state.windowNote.hidden = !templateOnly;
  state.submit.disabled = !option;
}

function drawChannels(state) {
  const firstAvailable = state.options.find((o) => o.available);
  state.channels.replaceChildren(...state.options.map((option) => {
    const id = `reach-channel-${option.channel}`;
    const hintId = `${id}-hint`;
    const hint = option.available
      ? (option.template_only ? "Template only: the client has not written on WhatsApp in the last 24 hours." : "")
      : option.reason;
    return el("div", { class: `reach-channel${option.available ? "" : " unavailable"}` },
      el("input", { type: "radio", name: "reach-channel", id, value: option.channel,
        disabled: !option.available, checked: option === firstAvailable,
        "aria-describedby": hint ? hintId : null }),
      el("label", { for: id },
        el("strong", { text: option.label }),
        option.address ? el("span", { class: "muted", text: ` ${option.address}` }) : null),
      hint ? el("span", { class: "reach-channel-hint muted", id: hintId, text: hint }) : null);
  }));
  if (!firstAvailable) showError(state, "This client cannot be reached on any channel right now.");
}

async function openReachOut(source, opener) {
  dialog = dialog || build();
  const state = dialog;
  state.source = source;
  state.pendingId = null;
  state.options = [];
  state.body.value = "";
  showError(state, "");
  try {
    const reply = await socket.request({ type: "chat.reach_options", ...source });
    state.options = reply.options;
    state.to.textContent = `To ${reply.client.name}${reply.client.company ? ` (${reply.client.company})` : ""}`
      + (reply.subject ? `, about “${reply.subject}”` : "");
    state.picker.setTemplates(reply.templates);
  } catch (error) {
    state.to.textContent = "";
    state.picker.setTemplates([]);
    showError(state, error.message);
  }
  drawChannels(state);
  showComposer(state);
  const option = chosen(state);
  const first = !option ? null : option.template_only ? state.picker.firstInput() : state.body;
  openModal(state.node, { first, returnTo: opener });
}

async function send(state) {
  const option = chosen(state);
  if (!option) return showError(state, "Choose how to reach the client.");
  const frame = { type: "chat.reach_out", ...state.source, channel: option.channel };
  if (option.template_only) {
    const problem = state.picker.problem();
    if (problem) return showError(state, problem);
    Object.assign(frame, { template_id: state.picker.template.id, values: state.picker.values() });
  } else {
    if (!state.body.value.trim()) return showError(state, "Write the message first.");
    frame.body = state.body.value;
  }
  // One id per Message customer: a resend after a dropped connection starts one chat.
  frame.client_id = state.pendingId || (state.pendingId = newClientId());
  state.submit.disabled = true;
  try {
    const reply = await socket.request(frame);
    state.pendingId = null;
    state.node.close();
    onStarted(reply, option);
  } catch (error) {
    // Refused: the next Send is a new Message customer. Cut off ("disconnected",
    // "timeout"): it may have started, so Send again keeps its id.
    if (error.code !== "disconnected" && error.code !== "timeout") state.pendingId = null;
    showError(state, error.message);
  } finally {
    state.submit.disabled = false;
  }
}
