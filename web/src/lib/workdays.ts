// Working days (Monday–Friday, Vietnam time) between two instants, for deadline display.
// The server computes deadlines with its holiday calendar; this only counts what is left.
const DAY = 86400000;
const VN = 7 * 3600000;

function vnDayIndex(ms: number): number {
  return Math.floor((ms + VN) / DAY);
}

function isWeekday(dayIndex: number): boolean {
  const dow = (dayIndex + 4) % 7; // 1970-01-01 was a Thursday (4)
  return dow !== 0 && dow !== 6;
}

// Positive: working days left until `due`; negative: working days overdue; 0: due today.
export function workingDaysUntil(due: string, now: number = Date.now()): number {
  const from = vnDayIndex(now);
  const to = vnDayIndex(new Date(due).getTime());
  let n = 0;
  if (to >= from) {
    for (let d = from + 1; d <= to; d++) if (isWeekday(d)) n++;
    return n;
  }
  for (let d = to + 1; d <= from; d++) if (isWeekday(d)) n--;
  return n;
}

export const HANDLER_STATES = ['submitted', 'under_review', 'approved'] as const;

export function isOverdue(state: string, due: string | null, now: number = Date.now()): boolean {
  return (
    !!due && (HANDLER_STATES as readonly string[]).includes(state) && new Date(due).getTime() < now
  );
}
