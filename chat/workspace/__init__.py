"""The agent workspace at /console/chats/: every chat of an agent in one page
(static/js/chat/workspace.js draws it over the socket) and the context pane of
the chat on show (its ticket, contact and company), rendered here."""
