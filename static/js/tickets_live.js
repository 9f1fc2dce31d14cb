// Console pages that follow the tickets live: the ticket list (a new ticket
// comes in at the top, one whose status moves leaves its tab, the assignee
// changes, the tab counts follow) and a ticket's page (status, assignee, the
// Time card). The server sends ticket.changed to every staff socket once a
// ticket write commits (tickets/events.py, chat/broadcasts.py). Text goes in
// with textContent, so a subject or a note stays inert. A page that missed an
// event (its socket was down) is as current as its last load: a reload
// re-reads it.

import { el } from "./dom.js";
import { getSocket } from "./socket.js";
import { formatDateTime } from "./chat/format.js";

const socket = getSocket();
const list = document.querySelector("[data-ticket-list]");
const page = document.querySelector("[data-ticket-page]");

function updatedCell(ticket) {
  return el("td", { class: "muted nowrap hide-narrow", "data-ticket-updated": true },
    el("time", { datetime: ticket.updated_at, title: formatDateTime(ticket.updated_at), text: "just now" }));
}

function assigneeContent(ticket, nobody) {
  return ticket.assignee ? ticket.assignee.name : el("span", { class: "muted", text: nobody });
}

// A row as templates/console/ticket_list.html draws it.
function ticketRow(ticket) {
  const link = (text) => el("a", { href: ticket.url, text });
  return el("tr", { "data-ticket-id": String(ticket.id) },
    el("td", { class: "col-num" }, link(String(ticket.number))),
    el("td", { class: "col-subject" }, link(ticket.subject)),
    el("td", { class: "hide-narrow", text: ticket.company }),
    el("td", { text: ticket.contact || "—" }),
    el("td", { "data-ticket-assignee": true }, assigneeContent(ticket, "—")),
    updatedCell(ticket));
}

function bumpCount(status, by) {
  const count = document.querySelector(`[data-status-count="${CSS.escape(status || "")}"]`);
  if (count) count.textContent = String(Math.max(0, Number(count.textContent) + by));
}

function applyToList(frame) {
  const { ticket, change, previous_status: previous } = frame;
  if (change === "created") bumpCount(ticket.status, 1);
  else if (previous && previous !== ticket.status) {
    bumpCount(previous, -1);
    bumpCount(ticket.status, 1);
  }
  const body = list.querySelector("tbody");
  const row = body.querySelector(`tr[data-ticket-id="${ticket.id}"]`);
  if (ticket.status !== list.dataset.status) {
    if (row) row.remove();
  } else if (row) {
    row.querySelector("[data-ticket-assignee]").replaceChildren(assigneeContent(ticket, "—"));
    row.querySelector("[data-ticket-updated]").replaceWith(updatedCell(ticket));
  } else if (list.dataset.firstPage) {
    // Newest first, as the list is ordered: before the first older ticket.
    const older = [...body.rows].find((r) => Number(r.dataset.ticketId) < ticket.id);
    body.insertBefore(ticketRow(ticket), older || null);
  }
  const empty = !body.rows.length;
  list.querySelector("[data-ticket-table]").hidden = empty;
  list.querySelector("[data-ticket-list-empty]").hidden = !empty;
}

// A time entry as the Time card lists it.
function timeEntryItem(entry) {
  return el("li", { "data-time-entry-id": String(entry.id) },
    el("div", {},
      el("strong", { text: `${entry.minutes} min` }),
      ` · ${entry.agent || "Former user"} `,
      el("span", { class: "muted" }, "· ",
        el("time", { datetime: entry.created_at, text: formatDateTime(entry.created_at) }))),
    entry.note ? el("div", { class: "muted note-lines", text: entry.note }) : null);
}

function applyToPage(frame) {
  const { ticket, time_entry: entry } = frame;
  if (String(ticket.id) !== page.dataset.ticketPage) return;
  for (const status of document.querySelectorAll("[data-ticket-status]")) {
    status.replaceChildren(el("span", { class: `badge badge-${ticket.status}`, text: ticket.status_label }));
  }
  for (const assignee of document.querySelectorAll("[data-ticket-assignee]")) {
    assignee.replaceChildren(assigneeContent(ticket, "Nobody"));
  }
  document.querySelector("[data-time-total]").textContent = `${ticket.time_total} min total`;
  const entries = document.querySelector("[data-time-entries]");
  if (entry && !entries.querySelector(`[data-time-entry-id="${entry.id}"]`)) {
    entries.append(timeEntryItem(entry));
    entries.hidden = false;
    document.querySelector("[data-time-empty]").hidden = true;
  }
}

socket.on("ticket.changed", (frame) => {
  if (list) applyToList(frame);
  if (page) applyToPage(frame);
});
