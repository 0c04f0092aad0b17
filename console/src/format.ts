/** How numbers, durations and times read on the console. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : integer.format(n);
}

export function rate(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : decimal.format(n);
}

export function percent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? 'n/a' : `${decimal.format(fraction * 100)} %`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 90) return `${decimal.format(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${decimal.format(seconds / 3600)} h`;
  return `${decimal.format(seconds / 86_400)} d`;
}

/** A time as the operator's clock shows it, with the date when it is not today. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const today = new Date().toDateString() === at.toDateString();
  return today
    ? at.toLocaleTimeString('en-GB')
    : `${at.toLocaleDateString('en-CA')} ${at.toLocaleTimeString('en-GB')}`;
}

/** `datetime-local` input value (local time) → RFC 3339, or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}
