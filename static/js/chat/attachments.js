// Files in a chat window: the paperclip (file picker), files dropped onto the
// window and images pasted from the clipboard. Each file is one HTTP upload
// (multipart POST with the CSRF token, chat/files/views.py) carrying a
// client_id: a retry after a lost answer sends the same one, and the server
// stores the file once. The answer is the stored message, ingested like a
// chat.send ack; the other side gets it over the socket.
//
// File names come from people: they only ever go in as textContent or
// attributes, never as HTML.

import { el } from "../dom.js";
import { newClientId } from "./conversation.js";

const RETRIES = 2;

const SVG_NS = "http://www.w3.org/2000/svg";
// The ticket page's file icon (templates/tickets/_files.html) and a paperclip.
const FILE_PATH = "M6 2h8l5 5v15H6z M14 2v5h5";
const CLIP_PATH = "M20.5 11.5l-8.2 8.2a5 5 0 0 1-7-7l8.5-8.5a3.4 3.4 0 0 1 4.8 4.8l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8";

function icon(path, className, size = 16) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", className);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(SVG_NS, "path");
  line.setAttribute("d", path);
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("stroke-width", "1.8");
  line.setAttribute("stroke-linecap", "round");
  line.setAttribute("stroke-linejoin", "round");
  svg.append(line);
  return svg;
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

// The body of a file message: a thumbnail linking to the download for an
// image the server checked (preview_url), a download link otherwise.
export function attachmentView(attachment) {
  const label = `${attachment.name} (${formatSize(attachment.size)})`;
  const link = el("a", {
    class: "chat-file-link",
    href: attachment.url,
    download: attachment.name,
    title: `Download ${label}`,
  }, icon(FILE_PATH, "chat-file-icon"),
  el("span", { class: "chat-file-name", text: attachment.name }),
  el("span", { class: "chat-file-size", text: formatSize(attachment.size) }));
  if (!attachment.preview_url) return el("div", { class: "chat-file" }, link);
  const image = el("img", { src: attachment.preview_url, alt: attachment.name });
  // The log scrolled to its end before the image had a height: keep the
  // end in view once it has one, unless the reader scrolled up meanwhile.
  image.addEventListener("load", () => {
    const log = image.closest(".chat-log");
    if (log && log.scrollHeight - log.scrollTop - log.clientHeight < image.clientHeight + 60) {
      log.scrollTop = log.scrollHeight;
    }
  }, { once: true });
  const thumb = el("a", { class: "chat-file-thumb", href: attachment.url, download: attachment.name }, image);
  return el("div", { class: "chat-file chat-file-image" }, thumb, link);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Wires the paperclip, drop and paste into one ChatWindow.
export class FileAttacher {
  constructor(win) {
    this.win = win;
    this.enabled = false;
    this.uploading = new Map(); // client_id -> file name
    // Each file's node, by attachment id: its preview is fetched once per
    // window, whatever asks for the node again.
    this.views = new Map(); // attachment id -> node
    this.input = el("input", {
      type: "file",
      class: "chat-file-input",
      multiple: true,
      hidden: true,
      tabindex: "-1",
      "aria-hidden": "true",
      onchange: () => {
        const files = [...this.input.files];
        this.input.value = ""; // choosing the same file again fires change again
        this.sendAll(files);
      },
    });
    this.button = el("button", {
      type: "button",
      class: "btn chat-attach",
      "aria-label": "Attach a file",
      title: "Attach a file (or drop an image on the chat, or paste one)",
      onclick: () => { if (this.enabled) this.input.click(); },
    }, icon(CLIP_PATH, "chat-attach-icon", 18));
    this.statusEl = el("p", { class: "chat-uploading", "aria-live": "polite", hidden: true });

    const root = win.root;
    let depth = 0; // dragenter/leave fire for every child crossed
    const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    root.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      depth += 1;
      root.classList.toggle("drop-target", this.enabled);
    });
    root.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) root.classList.remove("drop-target");
    });
    root.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault(); // without it the browser opens the file instead
      event.dataTransfer.dropEffect = this.enabled ? "copy" : "none";
    });
    root.addEventListener("drop", (event) => {
      const files = [...(event.dataTransfer?.files || [])];
      if (!files.length) return;
      event.preventDefault();
      depth = 0;
      root.classList.remove("drop-target");
      this.sendAll(files);
    });
    win.input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (!files.length) return; // plain text pastes as usual
      event.preventDefault();
      this.sendAll(files);
    });
  }

  view(attachment) {
    let view = this.views.get(attachment.id);
    if (!view) {
      view = attachmentView(attachment);
      this.views.set(attachment.id, view);
    }
    return view;
  }

  setEnabled(enabled) {
    this.enabled = enabled;
    this.button.disabled = !enabled;
    if (!enabled) this.win.root.classList.remove("drop-target");
  }

  sendAll(files) {
    if (!this.enabled) {
      this.win.showError("Files can be sent while the chat is active and an agent is in it.");
      return;
    }
    for (const file of files) this.send(file);
  }

  async send(file) {
    const clientId = newClientId();
    const name = file.name || "pasted-image.png";
    this.uploading.set(clientId, name);
    this._renderStatus();
    const form = new FormData();
    form.append("client_id", clientId);
    form.append("file", file, name);
    try {
      for (let attempt = 0; ; attempt += 1) {
        let response;
        try {
          response = await fetch(`/chat/sessions/${this.win.id}/files/`, {
            method: "POST",
            body: form,
            credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
          });
        } catch {
          // The connection dropped: the server may have stored it or not;
          // the same client_id makes the retry safe either way.
          if (attempt < RETRIES) { await sleep(1000 * (attempt + 1)); continue; }
          this.win.showError(`${name} was not sent: the connection was lost.`);
          return;
        }
        let data = null;
        try { data = await response.json(); } catch { data = null; }
        if (response.ok && data && data.message) {
          this.win.conversation.ingest(data.message);
          return;
        }
        if (response.status >= 500 && attempt < RETRIES) { await sleep(1000 * (attempt + 1)); continue; }
        const reason = (data && data.message)
          || (response.status === 403 ? "Your session has expired; reload the page." : "The file could not be sent.");
        this.win.showError(`${name} was not sent: ${reason}`);
        return;
      }
    } finally {
      this.uploading.delete(clientId);
      this._renderStatus();
    }
  }

  _renderStatus() {
    const names = [...this.uploading.values()];
    this.statusEl.hidden = !names.length;
    this.statusEl.textContent = names.length ? `Sending ${names.join(", ")}…` : "";
  }
}
