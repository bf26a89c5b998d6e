/**
 * The "Open images" link: a viewer URL template (VIEWER_URL_TEMPLATE) with the study's
 * StudyInstanceUID put in. A template is checked once, at start; a link is only ever made from a
 * checked template and a UID, so the button never points anywhere the template does not.
 */

/** The placeholder the template must hold. */
export const studyUidPlaceholder = '{StudyInstanceUID}';

/** Why a template was refused. */
export type ViewerTemplateProblem = 'no-placeholder' | 'unknown-placeholder' | 'not-a-url' | 'not-https';

/** A DICOM UID: digits and dots, at most 64 characters (PS3.5 9.1). */
const dicomUid = /^[0-9]+(\.[0-9]+)*$/;

/**
 * What is wrong with a template, or null when it may be used: it holds {StudyInstanceUID} and no other
 * placeholder, and filled in it is an http(s) URL (https only when `httpsOnly`, as in production).
 */
export function viewerTemplateProblem(template: string, httpsOnly: boolean): ViewerTemplateProblem | null {
  if (!template.includes(studyUidPlaceholder)) return 'no-placeholder';
  if (/\{[^}]*\}/.test(template.split(studyUidPlaceholder).join(''))) return 'unknown-placeholder';
  let url: URL;
  try {
    url = new URL(template.split(studyUidPlaceholder).join('1.2.3'));
  } catch {
    return 'not-a-url';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'not-a-url';
  return httpsOnly && url.protocol !== 'https:' ? 'not-https' : null;
}

/** The viewer link for a study, or null when there is no template or the UID is not a DICOM UID. */
export function viewerLink(template: string | null, studyInstanceUid: string): string | null {
  if (template === null || studyInstanceUid.length > 64 || !dicomUid.test(studyInstanceUid)) return null;
  return template.split(studyUidPlaceholder).join(encodeURIComponent(studyInstanceUid));
}
