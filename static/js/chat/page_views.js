// Page views: while a client's chat is open (waiting or active), the portal
// page it is on is reported to each such chat, so its agents see where the
// client is (chat/visitors/). The portal is made of full page loads, so
// "on load" (and on every reconnect, and when a chat starts here) covers each
// navigation; the server records a path once in a row, so repeats are free.
// The client never sees these lines: the server sends them to staff only.

import { dataJson } from "../dom.js";

// chat.visitors.PAGE_VIEW_STATUSES (data-page-view-statuses of the portal's
// chat dock, templates/chat/_portal.html).
const OPEN = new Set(dataJson(document.getElementById("chat-dock"), "pageViewStatuses", []));
const PATH_MAX = 500;
const TITLE_MAX = 200;

// The page as the agent will read it: path and query (never the fragment,
// never the origin), and the tab title without the site's name.
export function currentPage() {
  const path = `${window.location.pathname}${window.location.search}`;
  const title = document.title.replace(/\s*·\s*Switchboard\s*$/, "").trim();
  return {
    // A path too long to record is shortened to the path alone.
    path: path.length <= PATH_MAX ? path : window.location.pathname.slice(0, PATH_MAX),
    title: title.slice(0, TITLE_MAX),
  };
}

// Report this page to every open chat in `sessions` (session payloads).
export function reportPageView(socket, sessions) {
  const page = currentPage();
  for (const session of sessions) {
    if (!session || !OPEN.has(session.status)) continue;
    socket.request({ type: "chat.page_view", session_id: session.id, ...page })
      // A chat that just ended, a client who left it: nothing to report.
      .catch(() => {});
  }
}
