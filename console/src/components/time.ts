/** A time the API gives in ms (number or string), in the reader's locale; "" for none. */
export function formatTime(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined || ms === "") return "";
  const value = typeof ms === "string" && /^\d+$/.test(ms) ? Number(ms) : ms;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toLocaleString();
}
