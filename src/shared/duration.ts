/**
 * "45 min", "2 h", "1 h 30 min", "3 days": how every length of time is shown (grant lengths, session lifetimes,
 * time left, how long ago), rounded to the minute. Front ends use it for relative times too ("in 30 min").
 */
export function formatDuration(ms: number): string {
  const totalMinutes = Math.max(0, Math.round(ms / 60_000));
  if (totalMinutes < 60) return `${totalMinutes} min`;
  if (totalMinutes < 48 * 60) {
    const hours = Math.floor(totalMinutes / 60);
    const minutes = totalMinutes % 60;
    return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  }
  return `${Math.round(totalMinutes / (24 * 60))} days`;
}
