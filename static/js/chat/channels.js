// SMS and WhatsApp in the console: the channel badge of a chat, and how far
// a message sent to a phone got (its delivery tick). The labels come from the
// server (data-channel-labels, chat/templatetags/chat_tags.py channel_labels).

import { dataJson, el } from "../dom.js";
import { formatReadTime } from "./format.js";

const LABELS = dataJson(document.querySelector("[data-channel-labels]"), "channelLabels",
  { channels: {}, delivery: {} });

// The badge of an SMS or WhatsApp chat; null for a portal chat, unless
// showWeb (the workspace's list badges every chat).
export function channelBadge(session, { showWeb = false } = {}) {
  if (!session || !session.channel || (session.channel === "web" && !showWeb)) return null;
  return el("span", {
    class: `channel-badge channel-${session.channel}`,
    title: session.client_address || null,
    text: LABELS.channels[session.channel] || session.channel,
  });
}

const TICKS = { queued: "…", sending: "…", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };

// The tick of a message sent to a phone: the provider's state, not a read
// receipt (nobody on a phone has a socket).
export function deliveryTick(message) {
  const delivery = message.delivery;
  if (!delivery) return null;
  const label = LABELS.delivery[delivery.status] || delivery.status;
  const when = delivery.at ? ` ${formatReadTime(delivery.at)}` : "";
  const title = delivery.status === "failed" ? `Not delivered: ${delivery.error}` : `${label}${when}`;
  return el("span", {
    class: `chat-tick delivery-${delivery.status}${delivery.status === "read" ? " read" : ""}`,
    "data-delivery": delivery.status,
    title,
    "aria-label": title,
    text: `${TICKS[delivery.status] || ""} ${delivery.status === "failed" ? "Not delivered" : label}`.trim(),
  });
}
