"""Visitor info and page views: where the client of a chat came from, and the
portal pages it opens while its chat is open. Staff only, everywhere.

Rules (each checked here, never in the browser):

- **What is recorded** when a client asks to chat (``session_request``) or
  accepts a pushed chat (``push_answer``), in that transaction: the browser's
  user agent (the socket's ``User-Agent`` header), the landing page (the first
  portal page of this browser session) and the first visit (when and where
  this browser first opened the portal). The IP address is
  ``ChatSession.client_ip`` (realtime.client_ip). Asking again for a chat that is
  still open changes nothing.
- **The cookies**, set by ``middleware.VisitorMiddleware`` on a GET of a portal page
  when the browser has none (or an unreadable one): ``sb_first_visit`` for
  ``VISITOR_COOKIE_DAYS``, and ``sb_landing``, a browser-session cookie (no
  expiry: it goes when the browser closes). Both are ``<ISO-8601 UTC
  time>|<percent-encoded path>``, HttpOnly, SameSite=Lax, Secure whenever the
  session cookie is (production). The landing page is a cookie rather than a
  Django session key so that a page view never writes the session table (and
  "this browser session" is what a session cookie means). Both are the
  browser's word: a value that does not parse, lies in the future or names no
  same-origin path counts as no value.
- **Who sees it**: staff who may read the chat (chat.selectors.session_for),
  through the ``chat.visitor`` frame only. Nothing of it is in
  ``session_payload`` (which clients get too), in any client frame, page or
  API response.
- **Page views**: only the chat's own client reports them, only while the
  chat is waiting or active and the client is in its room. A path is a
  same-origin path (starts with one ``/``, no backslash, whitespace or control
  characters, at most ``PATH_MAX``); a title at most ``TITLE_MAX`` after
  collapsing whitespace. The same path as the chat's latest page view is not
  recorded again (reloads, reconnects, several tabs), and a chat keeps at most
  ``PAGE_VIEWS_PER_CHAT``; the socket's rate limit bounds the rest.
- **Page views are staff-only lines**: a ``PageView`` is not a ``Message``,
  so it takes no ``seq`` (the client's gap detection would wait forever for a
  seq it may not see) and is never in a client's replay, history, API,
  transcript or email. It is delivered to the supervisors watching the chat
  and the agents in its room (chat.broadcasts.page_viewed), and the agent's chat
  window shows it as a system line between the messages, by time.

Modules: ``recording`` (the cookies' format, what a request records),
``middleware`` (sets the cookies), ``page_views`` (page views and the
``chat.visitor`` reply).
"""

from __future__ import annotations
