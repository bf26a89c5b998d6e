/**
 * The "Open images" link: a viewer URL template (VIEWER_URL_TEMPLATE) with the study's
 * StudyInstanceUID (and, if the template asks, its accession number) put in. A template is checked
 * once, at start; a link is only ever made from a checked template and a DICOM UID, so the button
 * never points anywhere the template does not.
 */

/** The placeholder the template must hold. */
export const studyUidPlaceholder = '{StudyInstanceUID}';

/**
 * The placeholder a template may hold as well. Never alone: accession numbers are unique only within
 * the RIS that issued them, so a study pulled from another trust may share its number with a
 * different patient's study at UH Bristol; the UID is what names the study.
 */
export const accessionPlaceholder = '{AccessionNumber}';

/** Why a template was refused. */
export type ViewerTemplateProblem = 'no-placeholder' | 'unknown-placeholder' | 'not-a-url' | 'not-https';

/** A DICOM UID: digits and dots, at most 64 characters (PS3.5 9.1). */
const dicomUid = /^[0-9]+(\.[0-9]+)*$/;

/** An accession number (VR SH): at most 16 printable characters, no backslash. */
const accession = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

function fill(template: string, uid: string, accessionNumber: string): string {
  return template.split(studyUidPlaceholder).join(uid).split(accessionPlaceholder).join(accessionNumber);
}

/**
 * What is wrong with a template, or null when it may be used: it holds {StudyInstanceUID}, perhaps
 * {AccessionNumber}, and no other placeholder, and filled in it is an http(s) URL (https only when
 * `httpsOnly`, as in production).
 */
export function viewerTemplateProblem(template: string, httpsOnly: boolean): ViewerTemplateProblem | null {
  if (!template.includes(studyUidPlaceholder)) return 'no-placeholder';
  if (/\{[^}]*\}/.test(fill(template, '', ''))) return 'unknown-placeholder';
  let url: URL;
  try {
    url = new URL(fill(template, '1.2.3', 'A1'));
  } catch {
    return 'not-a-url';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'not-a-url';
  return httpsOnly && url.protocol !== 'https:' ? 'not-https' : null;
}

/**
 * The viewer link for a study, or null when there is no template or the UID is not a DICOM UID. An
 * accession number that is absent or not one leaves {AccessionNumber} empty (the UID still names the study).
 */
export function viewerLink(template: string | null, studyInstanceUid: string, accessionNumber: string | null = null): string | null {
  if (template === null || studyInstanceUid.length > 64 || !dicomUid.test(studyInstanceUid)) return null;
  const number = accessionNumber !== null && accession.test(accessionNumber.trim()) ? accessionNumber.trim() : '';
  return fill(template, encodeURIComponent(studyInstanceUid), encodeURIComponent(number));
}
