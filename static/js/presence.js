// Console header: my presence toggle, the live Agents list and the
// connection indicator (templates/presence/_toggle.html).
import { dataJson, el } from "./dom.js";
import { getSocket } from "./socket.js";

const ORDER = { available: 0, away: 1, offline: 2 };
const STATE_LABELS = {
  idle: "Connecting…",
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  unauthenticated: "Signed out",
  closed: "Disconnected",
};

function init(root) {
  // presence.models.PresenceStatus, value -> label (data-labels, templates/presence/_toggle.html).
  const labels = dataJson(root, "labels", {});
  const socket = getSocket();
  const myId = Number(document.body.dataset.userId || 0);
  const buttons = [...root.querySelectorAll("[data-status]")];
  const list = root.querySelector("[data-presence-list]");
  const count = root.querySelector("[data-presence-count]");
  const stateBox = root.querySelector("[data-socket-state]");
  const stateLabel = root.querySelector("[data-socket-state-label]");
  const errorBox = root.querySelector("[data-presence-error]");
  const agents = new Map(); // user_id -> {user_id, name, status}
  let mine = root.dataset.status || null;
  let busy = false;
  let ready = false;

  function renderToggle() {
    for (const button of buttons) {
      const on = button.dataset.status === mine;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.classList.toggle("is-active", on);
      button.disabled = busy || !ready || socket.state !== "open";
    }
    root.dataset.status = mine || "";
  }

  function showError(message) {
    if (!errorBox) return;
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  function renderAgents() {
    const rows = [...agents.values()].sort(
      (a, b) => ORDER[a.status] - ORDER[b.status] || a.name.localeCompare(b.name),
    );
    list.replaceChildren(
      ...rows.map((agent) =>
        el("li", { class: `presence-agent status-${agent.status}`, "data-user-id": agent.user_id },
          el("span", { class: "presence-dot", "aria-hidden": "true" }),
          el("span", { class: "presence-agent-name",
            text: agent.user_id === myId ? `${agent.name} (you)` : agent.name }),
          el("span", { class: "presence-agent-status", text: labels[agent.status] || agent.status }))),
    );
    if (!rows.length) list.append(el("li", { class: "presence-empty", text: "No agents yet." }));
    const available = rows.filter((agent) => agent.status === "available").length;
    count.textContent = String(available);
    count.setAttribute("aria-label", `${available} available`);
  }

  function setMine(status) {
    mine = status;
    const me = agents.get(myId);
    if (me) me.status = status;
    renderToggle();
    renderAgents();
  }

  async function loadSnapshot() {
    try {
      const snapshot = await socket.request({ type: "presence.snapshot" });
      agents.clear();
      for (const agent of snapshot.agents) agents.set(agent.user_id, agent);
      ready = true;
      showError("");
      setMine(snapshot.me.status);
    } catch (error) {
      if (error.code !== "disconnected") showError("Could not load agent status.");
    }
  }

  async function choose(status) {
    if (busy || status === mine) return;
    const previous = mine;
    busy = true;
    setMine(status); // optimistic; reverted on error
    try {
      const reply = await socket.request({ type: "presence.set", status });
      showError("");
      busy = false;
      setMine(reply.status);
    } catch (error) {
      busy = false;
      setMine(previous);
      showError(error.message || "Could not change your status.");
    }
  }

  for (const button of buttons) {
    button.addEventListener("click", () => choose(button.dataset.status));
  }

  socket.on("hello", loadSnapshot); // every (re)connect: events may have been missed
  socket.on("presence.changed", (frame) => {
    agents.set(frame.user_id, { user_id: frame.user_id, name: frame.name, status: frame.status });
    if (frame.user_id === myId && !busy) setMine(frame.status);
    else renderAgents();
  });
  socket.onState((state) => {
    stateBox.dataset.state = state;
    stateLabel.textContent = STATE_LABELS[state] || state;
    stateBox.title =
      state === "unauthenticated" ? "Your session ended: reload the page to log in again." : "";
    renderToggle();
  });
  if (socket.hello && socket.state === "open") loadSnapshot();
  renderToggle();
  renderAgents();
}

const root = document.querySelector("[data-presence]");
if (root) init(root);
