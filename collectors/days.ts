/** Report days are UTC calendar days written YYYY-MM-DD, as Microsoft and Slack name them. */
export function utcDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));
}

/** Every day from `first` to `last` inclusive, oldest first; empty when `first` is later. */
export function dayRange(first: string, last: string): string[] {
  const days: string[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) days.push(d);
  return days;
}

/** The later of two days (a bookmark never moves back when older days are pulled again). */
export function laterDay(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}
