// The client's choices when a chat request gets no answer (Lifecycle 5) or
// arrives outside office hours (Lifecycle 6), shown inside its chat window
// above the (disabled) message box:
//   nobody answered -> Keep waiting, Leave a note / Create ticket, Request a
//                      callback, End request;
//   support closed  -> Leave a note / Create ticket, End request.
// After a note, a ticket or a callback the panel confirms it and offers Leave.
// Everything people typed goes in with textContent (el's "text").

import { el } from "../dom.js";

let formCount = 0;

const CLOSED_FALLBACK = "Support is closed right now. Leave a note and we will get back to you.";

function mode(session, done) {
  if (done) return "done";
  if (session.status === "waiting" && session.no_answer_at) return "no_answer";
  if (session.status === "abandoned" && session.outside_hours) return "closed";
  if (session.status === "callback" || session.status === "abandoned") return "done";
  return null;
}

export class ClientFollowUp {
  // socket: the shared socket; onEnd(win): ends the request (chat.leave) and closes the window.
  constructor({ socket, onEnd }) {
    this.socket = socket;
    this.onEnd = onEnd;
    this.root = el("section", { class: "chat-panel", hidden: true, "aria-label": "Your options" });
    this.view = "choices"; // choices | note | ticket | callback
    this.done = null; // confirmation text after a note, ticket or callback
    this.key = null;
    this.win = null;
  }

  update(session, win) {
    this.win = win;
    const current = mode(session, this.done);
    if (current === null || current === "done") this.view = "choices";
    // The closing-time line matters on the choices only: a form keeps what is typed.
    const closedText = current === "closed" && this.view === "choices" ? this._closedText(win) : "";
    const key = [current, this.view, session.status, session.ticket_id, session.callback_phone, closedText].join("|");
    if (key === this.key) return; // keep what the client is typing
    this.key = key;
    this.root.hidden = current === null;
    this.root.dataset.mode = current || "";
    if (current === null) {
      this.root.replaceChildren();
      return;
    }
    if (current === "done") this.root.replaceChildren(...this._doneView(session));
    else if (this.view === "choices") this.root.replaceChildren(...this._choicesView(session, current, closedText));
    else this.root.replaceChildren(this._formView(session, this.view));
    const focusable = this.view !== "choices" && this.root.querySelector("input, textarea");
    if (focusable) focusable.focus();
  }

  _rerender() {
    this.key = null;
    if (this.win && this.win.conversation.session) this.win.render();
  }

  _show(view) {
    this.view = view;
    this._rerender();
  }

  // The system line that says when support opens again (chat.services.closed_line).
  _closedText(win) {
    const lines = win.conversation.ordered().filter((m) => m.kind === "system");
    const line = lines.reverse().find((m) => m.body.startsWith("Support is closed"));
    return line ? line.body : CLOSED_FALLBACK;
  }

  // --- views -----------------------------------------------------------------------
  _choicesView(session, current, closedText) {
    const postTicket = Boolean(session.ticket_id);
    const button = (text, onclick, className = "btn btn-secondary btn-small") =>
      el("button", { type: "button", class: className, text, onclick });
    const heading = current === "closed" ? "Support is closed" : "Nobody is available yet.";
    const intro = current === "closed"
      ? closedText
      : `You can keep waiting, ${postTicket ? "leave a note on the ticket" : "create a ticket"}, `
        + "or ask us to call you back.";
    return [
      el("h3", { class: "chat-panel-title", text: heading }),
      el("p", { class: "chat-panel-text", text: intro }),
      el("div", { class: "chat-panel-actions" },
        current === "no_answer"
          ? button("Keep waiting", (e) => this._keepWaiting(e.currentTarget), "btn btn-primary btn-small")
          : null,
        postTicket
          ? button("Leave a note", () => this._show("note"))
          : button("Create ticket", () => this._show("ticket")),
        current === "no_answer" ? button("Request a callback", () => this._show("callback")) : null,
        button("End request", (e) => this._end(e.currentTarget), "btn btn-link btn-small")),
    ];
  }

  _doneView(session) {
    let text = this.done;
    if (!text && session.status === "callback") {
      text = `We will call you back on ${session.callback_phone}.`;
    } else if (!text) {
      text = session.ticket_id
        ? `This request has ended. We will follow up on ticket #${session.ticket_id}.`
        : "This request has ended.";
    }
    return [
      el("p", { class: "chat-panel-done", role: "status", text }),
      el("div", { class: "chat-panel-actions" },
        el("button", { type: "button", class: "btn btn-secondary btn-small", text: "Leave",
          onclick: () => this.win && this.win.onClose(this.win) })),
    ];
  }

  _formView(session, view) {
    const n = ++formCount;
    const error = el("p", { class: "form-error", role: "alert", hidden: true });
    const field = (label, control, optional = false) =>
      el("div", { class: "chat-panel-field" },
        el("label", { for: control.id },
          label, optional ? el("span", { class: "muted", text: " (optional)" }) : null),
        control);
    let title;
    let intro;
    let fields;
    let submitText;
    let submit;
    if (view === "note") {
      const body = el("textarea", { id: `followup-note-${n}`, rows: "3", maxlength: "10000" });
      title = "Leave a note";
      intro = `Your note is added to ticket #${session.ticket_id}; we will get back to you.`;
      fields = [field("Note", body)];
      submitText = "Send note";
      submit = () => this._send({ type: "chat.leave_note", session_id: session.id, body: body.value },
        (s) => `Your note was added to ticket #${s.ticket_id}. We will get back to you.`);
    } else if (view === "ticket") {
      const body = el("textarea", { id: `followup-message-${n}`, rows: "3", maxlength: "10000" });
      title = "Create a ticket";
      intro = `We create a ticket about “${session.subject || session.title}” with your message.`;
      fields = [field("Message", body)];
      submitText = "Create ticket";
      submit = () => this._send({ type: "chat.create_ticket", session_id: session.id, body: body.value },
        (s) => `Ticket #${s.ticket_id} was created. We will get back to you.`);
    } else {
      const phone = el("input", { type: "tel", id: `followup-phone-${n}`, autocomplete: "tel",
        required: true, maxlength: "40", placeholder: "+44 20 7946 0000" });
      const message = el("textarea", { id: `followup-callback-message-${n}`, rows: "2", maxlength: "10000" });
      title = "Request a callback";
      intro = "Leave your number and an engineer will call you back.";
      fields = [field("Phone number", phone), field("Message", message, true)];
      submitText = "Request callback";
      submit = () => this._send(
        { type: "chat.callback", session_id: session.id, phone: phone.value, message: message.value },
        (s) => `Thank you. We will call you back on ${s.callback_phone}.`);
    }
    const submitButton = el("button", { type: "submit", class: "btn btn-primary btn-small", text: submitText });
    const form = el("form", { class: "chat-panel-form", novalidate: true },
      el("h3", { class: "chat-panel-title", text: title }),
      el("p", { class: "chat-panel-text", text: intro }),
      error,
      ...fields,
      el("div", { class: "chat-panel-actions" },
        el("button", { type: "button", class: "btn btn-link btn-small", text: "Back",
          onclick: () => this._show("choices") }),
        submitButton));
    form.addEventListener("input", () => { error.hidden = true; });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      submitButton.disabled = true;
      try {
        await submit();
      } catch (err) {
        error.textContent = err.message || "That did not work; please try again.";
        error.hidden = false;
        submitButton.disabled = false;
      }
    });
    return form;
  }

  // --- actions -----------------------------------------------------------------------
  async _send(frame, confirmation) {
    const state = await this.socket.request(frame);
    this.done = confirmation(state.session);
    this.view = "choices";
    this.key = null;
    this.win.conversation.applyState(state);
  }

  async _keepWaiting(button) {
    button.disabled = true;
    try {
      const state = await this.socket.request({ type: "chat.keep_waiting", session_id: this.win.id });
      this.win.conversation.applyState(state);
    } catch (error) {
      this.win.showError(error.message);
      button.disabled = false;
    }
  }

  async _end(button) {
    button.disabled = true;
    try {
      await this.onEnd(this.win);
    } finally {
      button.disabled = false;
    }
  }
}
