// India Standard Time, the exchange's clock (UTC+5:30, no daylight saving): the one place the
// page converts times. The server writes epoch seconds, or IST text on the trading routes.
export const IST_OFFSET = 19800; // seconds east of UTC

const pad = (n) => String(n).padStart(2, "0");

// The IST wall-clock fields of an epoch (seconds).
function fields(epoch) {
  const d = new Date((epoch + IST_OFFSET) * 1000);
  return [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours()), pad(d.getUTCMinutes()), pad(d.getUTCSeconds())];
}

// "2026-12-04 09:15"
export function istText(epoch) {
  const [y, mo, d, h, mi] = fields(epoch);
  return `${y}-${mo}-${d} ${h}:${mi}`;
}

// "09:15:03"
export function istTime(epoch) {
  const [, , , h, mi, s] = fields(epoch);
  return `${h}:${mi}:${s}`;
}

// "2026-12-04 09:17:08" (IST, as the trading routes write times) → epoch seconds; null if not
// such a text.
export function istEpoch(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text || "");
  if (!m) return null;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000 - IST_OFFSET;
}
