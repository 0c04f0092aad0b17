const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Pattern a duration string must match, shared by the config schema. */
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$';

/** Parses `500ms`, `30s`, `15m`, `24h`, `7d` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration; write it like 500ms, 30s, 15m, 24h or 7d`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number));
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?(b|kb|mb|gb)$';

/** Parses `512kb`, `1mb`, `2gb` (binary multiples) into bytes. */
export function parseSize(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(b|kb|mb|gb)$/i.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a size; write it like 512kb, 1mb or 2gb`);
  return Math.round(Number(match[1]) * (SIZE_UNITS[(match[2] as string).toLowerCase()] as number));
}
