// Browser notifications and the request sound, shared by portal and console.

export function askNotificationPermission() {
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

export function showNotification(title, body, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return null;
  try {
    const notification = new Notification(title, { body, tag });
    notification.onclick = () => {
      window.focus();
      notification.close();
    };
    return notification;
  } catch {
    return null; // some browsers only allow notifications from a service worker
  }
}

// --- The chime ------------------------------------------------------------------------------
// Browsers keep a page's audio suspended until the person has clicked or typed
// in it. The audio is made (or resumed) on the first such gesture, so after a
// fresh page load the chime plays from then on, not only after a first click
// that happened to come before the first request.

let audioContext = null;

function audio() {
  audioContext = audioContext || new (window.AudioContext || window.webkitAudioContext)();
  return audioContext;
}

const GESTURES = ["pointerdown", "keydown"];

function unlockAudio() {
  try {
    const context = audio();
    if (context.state === "suspended") context.resume().catch(() => {});
  } catch {
    return; // no audio in this browser: toasts and notifications still show
  }
  for (const type of GESTURES) document.removeEventListener(type, unlockAudio, true);
}

export function unlockAudioOnFirstGesture() {
  for (const type of GESTURES) document.addEventListener(type, unlockAudio, true);
}

// Mute, per agent and browser (the Mute button of the console header).
function muteKey() {
  return `switchboard.mute.${document.body.dataset.userId || 0}`;
}

export function isMuted() {
  try {
    return window.localStorage.getItem(muteKey()) === "1";
  } catch {
    return false;
  }
}

export function setMuted(muted) {
  try {
    if (muted) window.localStorage.setItem(muteKey(), "1");
    else window.localStorage.removeItem(muteKey());
  } catch {
    // Storage refused (private mode): muted for this page only.
  }
  mutedHere = muted;
}

let mutedHere = null;

// A short two-tone chime made with WebAudio: no sound file to ship or fetch.
export function chime() {
  if (mutedHere ?? isMuted()) return;
  try {
    const context = audio();
    const now = context.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.18, 660]]) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.3);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(now + offset);
      oscillator.stop(now + offset + 0.32);
    }
  } catch {
    // No audio available: the toast and the notification still show.
  }
}
