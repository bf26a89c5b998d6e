/**
 * luxon's IANA zones ask Intl for the UTC offset on every call, which dominated the cost of
 * answering a question. Offsets only change on quarter hours, so this zone remembers them per
 * 15 minutes. Same results, on any host zone.
 */
import { IANAZone } from 'luxon';

const quarterHourMs = 15 * 60 * 1000;
/** Enough buckets for years of instants; cleared when full so memory stays bounded. */
const maxBuckets = 200_000;

class MemoisedZone extends IANAZone {
  private readonly offsets = new Map<number, number>();
  private readonly names = new Map<string, string>();

  override offsetName(ts: number, options: { format?: 'short' | 'long'; locale?: string }): string {
    const key = `${Math.floor(ts / quarterHourMs)}|${options.format ?? ''}|${options.locale ?? ''}`;
    let name = this.names.get(key);
    if (name === undefined) {
      name = super.offsetName(ts, options) ?? '';
      if (this.names.size >= maxBuckets) this.names.clear();
      this.names.set(key, name);
    }
    return name;
  }

  override offset(ts: number): number {
    const bucket = Math.floor(ts / quarterHourMs);
    let value = this.offsets.get(bucket);
    if (value === undefined) {
      value = super.offset(ts);
      if (this.offsets.size >= maxBuckets) this.offsets.clear();
      this.offsets.set(bucket, value);
    }
    return value;
  }
}

const zones = new Map<string, IANAZone>();

/** The memoised luxon zone for an IANA name (one instance per name). */
export function fastZone(name: string): IANAZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new MemoisedZone(name);
    zones.set(name, zone);
  }
  return zone;
}
