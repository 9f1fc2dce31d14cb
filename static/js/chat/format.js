// Durations, dates and times as every page shows them: the product's one
// format (config/formats/en/formats.py prints the same on the server:
// "7 Dec 2025, 14:02", 24-hour times), in the reader's time zone, which the
// server hands over as <body data-time-zone> (User.time_zone, else the
// helpdesk's; accounts/middleware.py).

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// A zone the browser does not know (an old browser) falls back to its own.
function zoneFormat() {
  const options = {
    year: "numeric", month: "numeric", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  };
  const timeZone = document.body && document.body.dataset.timeZone;
  try {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: timeZone || undefined });
  } catch {
    return new Intl.DateTimeFormat("en-GB", options);
  }
}

let format = null;

// The wall-clock parts of an instant in the reader's zone. Built from parts,
// not from a locale's whole string, so every browser prints the same thing
// as the server ("Sep", never "Sept").
function partsOf(iso) {
  format = format || zoneFormat();
  const parts = {};
  for (const part of format.formatToParts(new Date(iso))) parts[part.type] = part.value;
  return {
    day: `${Number(parts.day)} ${MONTHS[Number(parts.month) - 1]} ${parts.year}`,
    time: `${parts.hour}:${parts.minute}`,
    seconds: parts.second,
  };
}

// A waiting or chatting time: 0:07, 12:30, 1:02:03.
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

// The time of a line in a chat log (and of a follow-up card's request): 14:02.
export function formatTime(iso) {
  return partsOf(iso).time;
}

// A day: 7 Dec 2025.
export function formatDate(iso) {
  return partsOf(iso).day;
}

// A day and its time: 7 Dec 2025, 14:02.
export function formatDateTime(iso) {
  const { day, time } = partsOf(iso);
  return `${day}, ${time}`;
}

// When a message was read or delivered, for the tick's hover: the time, and
// the day if not today (in the reader's zone).
export function formatReadTime(iso) {
  const { day, time } = partsOf(iso);
  return day === partsOf(new Date().toISOString()).day ? time : `${day}, ${time}`;
}
