// The console header's Mute button (templates/chat/_mute_toggle.html): the
// agent's choice to silence the request chime, kept in this browser
// (localStorage, per agent) so it holds across reloads. aria-pressed says
// whether the sound is muted; the label stays "Mute", as toggle buttons do.

import { isMuted, setMuted } from "./notify.js";

export function installMuteToggle() {
  const button = document.querySelector("[data-mute-toggle]");
  if (!button) return;
  const show = (muted) => {
    button.setAttribute("aria-pressed", muted ? "true" : "false");
    button.title = muted ? "The request sound is off" : "Turn the request sound off";
  };
  show(isMuted());
  button.addEventListener("click", () => {
    const muted = button.getAttribute("aria-pressed") !== "true";
    setMuted(muted);
    show(muted);
  });
}
