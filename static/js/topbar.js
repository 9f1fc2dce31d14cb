// Keeps --topbar-height (static/css/app.css) equal to the header's real height. The
// header wraps to two rows where its links and tools do not fit on one (the console on a
// tablet, the portal on a phone), and what is placed under it (the session manager, the
// toasts, the supervisor's side column) and the chat windows' maximum height follow it.
const header = document.querySelector(".topbar");
if (header && "ResizeObserver" in window) {
  const root = document.documentElement;
  new ResizeObserver(() => {
    root.style.setProperty("--topbar-height", `${header.offsetHeight}px`);
  }).observe(header);
}
