/**
 * Parsers of the settings whose values have a structure of their own: comma-separated lists and the
 * peer-to-peer PACS sites.
 */
import { z } from 'zod';
import { insigniaSiteIds } from '../domain/guide/guide';

/** A comma-separated list, each item trimmed, empty items dropped. */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** One configured peer-to-peer site. */
export interface PacsSite {
  readonly site: string;
  /** The modality's symbolic name in Orthanc's DicomModalities. */
  readonly modality: string;
  /** The DICOM attribute that carries the NHS number at that site. */
  readonly nhsNumberAttribute: string;
}

/** The peer-to-peer sites' ids, as the guide names them. */
const siteIds: readonly string[] = insigniaSiteIds;

/**
 * PACS_SITES (site-id:MODALITY[:Attribute], comma-separated) as sites; a bad or repeated entry is
 * reported to `ctx` by its position, never its text.
 */
export function parseSites(value: string, ctx: z.RefinementCtx): PacsSite[] {
  const sites: PacsSite[] = [];
  for (const [index, entry] of list(value).entries()) {
    const [site = '', modality = '', attribute = 'PatientID', ...rest] = entry.split(':').map((p) => p.trim());
    if (!siteIds.includes(site) || !/^[A-Za-z0-9_-]+$/.test(modality) || !/^[A-Za-z]+$/.test(attribute) || rest.length > 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `entry ${index + 1} must be site-id:MODALITY[:Attribute] with a site id from ${siteIds.join(', ')}`,
      });
      return z.NEVER;
    }
    if (sites.some((s) => s.site === site)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `entry ${index + 1} names a site listed before it` });
      return z.NEVER;
    }
    sites.push({ site, modality, nhsNumberAttribute: attribute });
  }
  return sites;
}
