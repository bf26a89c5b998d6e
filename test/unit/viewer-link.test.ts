/**
 * The "Open images" link (VIEWER_URL_TEMPLATE): which templates are accepted at start (a
 * {StudyInstanceUID} placeholder, perhaps {AccessionNumber} too, and no other; an https URL in
 * production) and the link made from one.
 */
import { parseConfig } from '../../src/config/config';
import { viewerLink, viewerTemplateProblem } from '../../src/domain/viewer/viewer-link';
import { configRefusal, safeProduction } from '../support/production-env';

const refusal = configRefusal;

describe('VIEWER_URL_TEMPLATE', () => {
  it('is optional: empty means no "Open images" button', () => {
    expect(parseConfig({}).viewerUrlTemplate).toBeNull();
    expect(parseConfig({ ...safeProduction }).viewerUrlTemplate).toBeNull();
  });

  it('accepts an http viewer in development (Orthanc on loopback) and an https one in production', () => {
    const local = 'http://127.0.0.1:8042/stone-webviewer/index.html?study={StudyInstanceUID}';
    expect(parseConfig({ VIEWER_URL_TEMPLATE: local }).viewerUrlTemplate).toBe(local);
    const trust = 'https://pacs.example.nhs.uk/viewer?StudyInstanceUIDs={StudyInstanceUID}';
    expect(parseConfig({ ...safeProduction, VIEWER_URL_TEMPLATE: trust }).viewerUrlTemplate).toBe(trust);
  });

  it.each([
    ['no placeholder', 'https://viewer.example/study', /must contain \{StudyInstanceUID\}/],
    // Accession numbers are unique only within the RIS that issued them: alone, one could open another patient's study.
    ['the accession number alone', 'https://viewer.example/?accession={AccessionNumber}', /must contain \{StudyInstanceUID\}/],
    ['another placeholder', 'https://viewer.example/?study={StudyInstanceUID}&patient={PatientID}', /no placeholder but/],
    ['not a URL', 'viewer {StudyInstanceUID}', /http\(s\) URL/],
    ['another scheme', 'javascript:alert("{StudyInstanceUID}")', /http\(s\) URL/],
  ])('refuses a template with %s, naming the setting and never quoting it', (_name, template, why) => {
    const error = refusal({ VIEWER_URL_TEMPLATE: template });
    expect(error.key).toBe('VIEWER_URL_TEMPLATE');
    expect(error.message).toMatch(why);
    expect(error.message).not.toContain(template);
  });

  it('refuses a plain-http viewer in production', () => {
    const error = refusal({ ...safeProduction, VIEWER_URL_TEMPLATE: 'http://viewer.example/?study={StudyInstanceUID}' });
    expect(error.key).toBe('VIEWER_URL_TEMPLATE');
    expect(error.message).toMatch(/https URL in production/);
  });
});

describe('the viewer link', () => {
  const template = 'https://viewer.example/view?study={StudyInstanceUID}';

  it('puts the StudyInstanceUID where the template says', () => {
    expect(viewerLink(template, '1.2.826.0.1.3680043.2.1125.1')).toBe('https://viewer.example/view?study=1.2.826.0.1.3680043.2.1125.1');
    expect(viewerTemplateProblem(template, true)).toBeNull();
  });

  it('puts the accession number in too when the template asks, encoded; an absent or malformed one is left empty', () => {
    const both = 'https://viewer.example/view?study={StudyInstanceUID}&acc={AccessionNumber}';
    expect(viewerTemplateProblem(both, true)).toBeNull();
    expect(parseConfig({ ...safeProduction, VIEWER_URL_TEMPLATE: both }).viewerUrlTemplate).toBe(both);
    expect(viewerLink(both, '1.2.3', 'EXE 24/03#1')).toBe('https://viewer.example/view?study=1.2.3&acc=EXE%2024%2F03%231');
    expect(viewerLink(both, '1.2.3', null)).toBe('https://viewer.example/view?study=1.2.3&acc=');
    expect(viewerLink(both, '1.2.3', 'A\\B')).toBe('https://viewer.example/view?study=1.2.3&acc=');
    expect(viewerLink(both, '1.2.3', 'X'.repeat(17))).toBe('https://viewer.example/view?study=1.2.3&acc=');
  });

  it('makes no link without a template, or for a value that is not a DICOM UID', () => {
    expect(viewerLink(null, '1.2.3')).toBeNull();
    expect(viewerLink(template, '1.2.3&patient=x')).toBeNull();
    expect(viewerLink(template, '')).toBeNull();
    expect(viewerLink(template, `1.${'2'.repeat(70)}`)).toBeNull();
  });
});
