// What waits for the agent, counted in the tab's title ("(2) Tickets ·
// Switchboard"), so a console in a background tab says so: each chat request
// or invitation offered to this agent and not yet answered, and each of the
// agent's chats with a message from someone else that the agent has not read
// (its window minimized, or the tab hidden; chat_window.js marks only what
// can be seen as read).

const baseTitle = document.title;

// A message the agent has not read: by someone else, past the agent's read
// marker (the one the server has, or the one this tab just sent).
export function hasUnread(conversation, userId) {
  const session = conversation.session;
  const me = session && session.participants.find((p) => p.user.id === userId);
  const readUpTo = Math.max(conversation.readSent || 0, (me && me.last_read_seq) || 0);
  for (const message of conversation.messages.values()) {
    if (message.seq <= readUpTo || !message.author || message.author.id === userId) continue;
    if (message.kind === "text" || message.kind === "file") return true;
  }
  return false;
}

export function showCount(count) {
  const title = count ? `(${count}) ${baseTitle}` : baseTitle;
  if (document.title !== title) document.title = title;
}
