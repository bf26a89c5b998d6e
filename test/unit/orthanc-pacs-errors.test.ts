/**
 * The Orthanc adapter's requests and error mapping, with Orthanc played by nock on a loopback
 * address nothing listens on. The error bodies are the real ones from the lab recipe (§7).
 */
import nock from 'nock';
import { createOrthancPacs } from '../../src/adapters/pacs/orthanc-pacs';
import type { PacsPort } from '../../src/ports/pacs-port';
import { expectReason, pacsFailure } from '../contract/pacs-contract';

const url = 'http://127.0.0.1:1';
const nhs = '9434765919';
const identifiers = [nhs, 'TESTPATIENT', 'ALICE', '19700312', '1970-03-12'];
const sites = [
  { site: 'exeter', modality: 'EXETER', nhsNumberAttribute: 'PatientID' },
  { site: 'plymouth', modality: 'PLYMOUTH', nhsNumberAttribute: 'OtherPatientIDs' },
];

function adapter(options: { requestTimeoutMs?: number; retrievalTimeoutMs?: number } = {}): PacsPort {
  return createOrthancPacs({ url: `${url}/`, username: 'teamsbot', password: 'teamsbot-secret', localAet: 'UHB_PACS', sites, ...options });
}

/** Orthanc's REST error body. */
function orthancError(status: number, orthancStatus: number, message: string, details?: string): object {
  return {
    ...(details === undefined ? {} : { Details: details }),
    HttpStatus: status,
    Message: message,
    OrthancError: message,
    OrthancStatus: orthancStatus,
  };
}

const refused = 'DicomAssociation - connecting to AET "EXETER_PACS": TCP Initialization Error: Connection refused';
const readTimeout = 'DicomAssociation - connecting to AET "EXETER_PACS": DUL network read timeout';
const badCalledAet = 'DicomAssociation - connecting to AET "EXETER_WRONG": DUL Association Rejected';
const peerAborted = 'C-FIND to AET "EXETER_PACS": Peer aborted Association (or never connected)';
const moveFailed = 'C-MOVE SCU to AET "EXETER_PACS" has failed with DIMSE status 0xC000 (unable to process - resource not found ?)';

function answers(items: object[]): void {
  nock(url).get('/queries/q1/answers').query({ expand: '', simplify: '' }).reply(200, items);
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe('Orthanc adapter requests', () => {
  it('queries the site at study level with the keys it needs, a DICOM timeout and Basic auth, and sorts newest first', async () => {
    let sent: any;
    nock(url, { reqheaders: { authorization: `Basic ${Buffer.from('teamsbot:teamsbot-secret').toString('base64')}` } })
      .post('/modalities/EXETER/query', (body) => {
        sent = body;
        return true;
      })
      .reply(200, { ID: 'q1', Path: '/queries/q1' });
    answers([
      {
        StudyInstanceUID: '2.25.2',
        StudyDate: '20231105',
        StudyTime: '224100',
        StudyDescription: 'CT Head',
        ModalitiesInStudy: 'CT\\SR',
        NumberOfStudyRelatedInstances: '5',
        PatientID: nhs,
      },
      { StudyInstanceUID: '2.25.4', StudyDate: '', StudyDescription: 'Undated', ModalitiesInStudy: '', NumberOfStudyRelatedInstances: '' },
      {
        StudyInstanceUID: '2.25.1',
        StudyDate: '20240312',
        StudyTime: '101500',
        StudyDescription: 'XR Chest',
        ModalitiesInStudy: 'DX',
        NumberOfStudyRelatedInstances: '2',
        PatientID: nhs,
      },
      {
        StudyInstanceUID: '2.25.9',
        StudyDate: '20250101',
        StudyDescription: 'Someone else',
        ModalitiesInStudy: 'US',
        NumberOfStudyRelatedInstances: '1',
        PatientID: '4010232137',
      },
      {
        StudyInstanceUID: '2.25.3',
        StudyDate: '20240312',
        StudyTime: '180000',
        StudyDescription: 'XR Chest later',
        ModalitiesInStudy: 'DX',
        NumberOfStudyRelatedInstances: '1',
      },
    ]);
    const studies = await adapter().queryRemoteStudies('exeter', nhs, 2_500);
    expect(sent).toEqual({
      Level: 'Study',
      Query: {
        PatientID: nhs,
        StudyDate: '',
        StudyTime: '',
        StudyDescription: '',
        ModalitiesInStudy: '',
        NumberOfStudyRelatedInstances: '',
        AccessionNumber: '',
        StudyInstanceUID: '',
      },
      Timeout: 3,
    });
    // Another patient's answer is dropped; the two answers with no NHS number at all cannot be
    // positively identified, so they are dropped too, and counted for the site's status line.
    expect(studies).toEqual({
      studies: [
        { studyInstanceUid: '2.25.1', date: '2024-03-12', description: 'XR Chest', modalities: ['DX'], instanceCount: 2 },
        { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT', 'SR'], instanceCount: 5 },
      ],
      withoutNhsNumber: 2,
    });
  });

  it("queries by the site's own NHS-number attribute", async () => {
    let sent: any;
    nock(url)
      .post('/modalities/PLYMOUTH/query', (body) => {
        sent = body;
        return true;
      })
      .reply(200, { ID: 'q1' });
    answers([]);
    expect(await adapter().queryRemoteStudies('plymouth', nhs, 1_000)).toEqual({ studies: [], withoutNhsNumber: 0 });
    expect(sent.Query.OtherPatientIDs).toBe(nhs);
    expect(sent.Query.PatientID).toBeUndefined();
  });

  it('sends nothing for an NHS number that is not ten digits (a wildcard would match everyone)', async () => {
    const pacs = adapter();
    expect(await pacs.queryRemoteStudies('exeter', '*', 1_000)).toEqual({ studies: [], withoutNhsNumber: 0 });
    expect(await pacs.findLocalPatients({ kind: 'nhs-number', nhsNumber: '943*' })).toEqual([]);
    expect(await pacs.findLocalPatients({ kind: 'demographics', familyName: '*', givenName: 'A', birthDate: '1970-03-12' })).toEqual([]);
    expect(await pacs.findLocalPatients({ kind: 'demographics', familyName: 'X', givenName: 'A', birthDate: '12/03/1970' })).toEqual([]);
    expectReason(await pacsFailure(pacs.startRetrieval('exeter', '*', '2.25.1')), 'not-found', identifiers);
    expectReason(await pacsFailure(pacs.startRetrieval('exeter', nhs, '*')), 'not-found', identifiers);
    expect(Object.fromEntries(await pacs.localInstanceCounts(['*', '2.25.1*']))).toEqual({ '*': 0, '2.25.1*': 0 });
  });

  it('retrieves through a fresh C-FIND by StudyInstanceUID and an asynchronous retrieve to the local AET', async () => {
    let query: any;
    let retrieve: any;
    nock(url)
      .post('/modalities/EXETER/query', (body) => {
        query = body;
        return true;
      })
      .reply(200, { ID: 'q1' });
    answers([{ StudyInstanceUID: '2.25.1', PatientID: nhs }]);
    nock(url)
      .post('/queries/q1/answers/0/retrieve', (body) => {
        retrieve = body;
        return true;
      })
      .reply(200, { ID: 'job-1', Path: '/jobs/job-1' });
    expect(await adapter({ requestTimeoutMs: 4_000, retrievalTimeoutMs: 20_000 }).startRetrieval('exeter', nhs, '2.25.1')).toBe('job-1');
    expect(query).toEqual({ Level: 'Study', Query: { StudyInstanceUID: '2.25.1', PatientID: nhs }, Timeout: 4 });
    expect(retrieve).toEqual({ TargetAet: 'UHB_PACS', Asynchronous: true, Timeout: 20 });
  });

  it('reports a study with no C-FIND answer as not found', async () => {
    nock(url).post('/modalities/EXETER/query').reply(200, { ID: 'q1' });
    answers([]);
    expectReason(await pacsFailure(adapter().startRetrieval('exeter', nhs, '2.25.1')), 'not-found', identifiers);
  });

  it('counts local instances of many studies with two list-matching /tools/find requests', async () => {
    const query = { StudyInstanceUID: '2.25.1\\2.25.2\\2.25.3' };
    nock(url)
      .post('/tools/find', { Level: 'Study', Query: query, Expand: true })
      .reply(200, [
        { ID: 's1', ParentPatient: 'p1', MainDicomTags: { StudyInstanceUID: '2.25.1' } },
        { ID: 's3', ParentPatient: 'p1', MainDicomTags: { StudyInstanceUID: '2.25.3' } },
      ]);
    nock(url)
      .post('/tools/find', { Level: 'Series', Query: query, Expand: true })
      .reply(200, [
        { ID: 'a', ParentStudy: 's1', Instances: ['i1', 'i2'] },
        { ID: 'b', ParentStudy: 's1', Instances: ['i3', 'i4', 'i5'] },
        { ID: 'c', ParentStudy: 's3', Instances: ['i6'] },
      ]);
    const counts = await adapter().localInstanceCounts(['2.25.1', '2.25.2', '2.25.3']);
    expect(Object.fromEntries(counts)).toEqual({ '2.25.1': 5, '2.25.2': 0, '2.25.3': 1 });
    expect(nock.isDone()).toBe(true);
  });

  it('asks no more when none of the studies is on the local PACS', async () => {
    nock(url)
      .post('/tools/find', { Level: 'Study', Query: { StudyInstanceUID: '2.25.9' }, Expand: true })
      .reply(200, []);
    expect(Object.fromEntries(await adapter().localInstanceCounts(['2.25.9']))).toEqual({ '2.25.9': 0 });
  });
});

describe('Orthanc adapter error mapping', () => {
  it.each([
    ['connection refused', 'unreachable', 500, orthancError(500, 9, 'Error in the network protocol', refused)],
    ['DUL read timeout (hung peer)', 'timed-out', 500, orthancError(500, 9, 'Error in the network protocol', readTimeout)],
    ['association rejected (wrong called AET)', 'rejected', 500, orthancError(500, 9, 'Error in the network protocol', badCalledAet)],
    ['peer aborted (calling AET unknown to the peer)', 'rejected', 500, orthancError(500, 9, 'Error in the network protocol', peerAborted)],
    ['C-MOVE 0xC000', 'protocol', 422, orthancError(422, 9, 'Error in the network protocol', moveFailed)],
    ['parameter out of range', 'protocol', 400, orthancError(400, 3, 'Parameter out of range')],
    ['an internal error without details', 'protocol', 500, orthancError(500, 1, 'Internal error')],
    ['a body that is not JSON', 'protocol', 502, '<html>Bad gateway</html>'],
  ] as const)('maps a C-FIND failing with %s to %s, naming the site', async (_case, reason, status, body) => {
    nock(url).post('/modalities/EXETER/query').reply(status, body);
    const error = await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 1_000));
    expectReason(error, reason, identifiers);
    expect(error.site).toBe('exeter');
  });

  it('maps 401 (the bot refused by Orthanc) to rejected, with no site', async () => {
    nock(url).post('/modalities/EXETER/query').reply(401, '');
    const error = await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 1_000));
    expectReason(error, 'rejected', identifiers);
    expect(error.site).toBeNull();
  });

  it('maps 404 on a query to not-found, and 404 on the modality to unknown-site', async () => {
    nock(url).post('/modalities/EXETER/query').reply(200, { ID: 'gone' });
    nock(url)
      .get('/queries/gone/answers')
      .query(true)
      .reply(404, orthancError(404, 17, 'Unknown resource'));
    expectReason(await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 1_000)), 'not-found', identifiers);

    nock(url)
      .post('/modalities/EXETER/query')
      .reply(404, orthancError(404, 7, 'Accessing an inexistent item', 'No modality with symbolic name: EXETER'));
    const error = await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 1_000));
    expectReason(error, 'unknown-site', identifiers);
    expect(error.site).toBe('exeter');
  });

  it('maps a site that is not configured to unknown-site without a request', async () => {
    expectReason(await pacsFailure(adapter().queryRemoteStudies('weston', nhs, 1_000)), 'unknown-site', identifiers);
    expectReason(await pacsFailure(adapter().startRetrieval('weston', nhs, '2.25.1')), 'unknown-site', identifiers);
  });

  it('pings with GET /system, and reports Orthanc down or refusing as unreachable or rejected', async () => {
    nock(url).get('/system').reply(200, { Version: '1.10.1', Name: 'UHB' });
    await expect(adapter().ping()).resolves.toBeUndefined();
    nock(url).get('/system').replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    expectReason(await pacsFailure(adapter().ping()), 'unreachable', identifiers);
    nock(url).get('/system').reply(401, '');
    expectReason(await pacsFailure(adapter().ping()), 'rejected', identifiers);
  });

  it('maps Orthanc itself down to unreachable, with no site', async () => {
    nock(url).post('/modalities/EXETER/query').replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' });
    const error = await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 1_000));
    expectReason(error, 'unreachable', identifiers);
    expect(error.site).toBeNull();

    nock(url).post('/tools/find').replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' });
    expectReason(await pacsFailure(adapter().findLocalPatients({ kind: 'nhs-number', nhsNumber: nhs })), 'unreachable', identifiers);
  });

  it('gives up on a query Orthanc does not answer about a second after the timeout: timed-out, naming the site', async () => {
    nock(url).post('/modalities/EXETER/query').delay(1_300).reply(200, { ID: 'q1' });
    const start = Date.now();
    const error = await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 100));
    expectReason(error, 'timed-out', identifiers);
    expect(error.site).toBe('exeter');
    expect(Date.now() - start).toBeLessThan(2_500);
  });

  it('maps a 200 that is not JSON, or not the expected shape, to protocol', async () => {
    nock(url).post('/modalities/EXETER/query').reply(200, '{"ID": "q1"');
    expectReason(await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 1_000)), 'protocol', identifiers);
    nock(url).post('/modalities/EXETER/query').reply(200, { Path: '/queries/q1' });
    expectReason(await pacsFailure(adapter().queryRemoteStudies('exeter', nhs, 1_000)), 'protocol', identifiers);
    nock(url).get('/jobs').query(true).reply(200, { jobs: [] });
    expectReason(await pacsFailure(adapter().retrievalStates(['job-1'])), 'protocol', identifiers);
  });
});

describe('Orthanc adapter job states', () => {
  const job = (id: string, state: string, details = ''): object => ({
    ID: id,
    State: state,
    ErrorCode: details === '' ? 0 : 9,
    ErrorDetails: details,
    Progress: 0,
    Type: 'DicomMoveScu',
  });

  it('reads every job from one GET /jobs?expand, however many are asked about', async () => {
    let requests = 0;
    nock(url)
      .get('/jobs')
      .query({ expand: '' })
      .times(5)
      .reply(() => {
        requests += 1;
        return [
          200,
          [
            job('pending', 'Pending'),
            job('paused', 'Paused'),
            job('retry', 'Retry'),
            job('running', 'Running'),
            job('done', 'Success'),
            job('refused', 'Failure', refused),
            job('hung', 'Failure', 'DicomAssociation - connecting to AET "EXETER_PACS": DUL network read timeout'),
            job('0xc000', 'Failure', moveFailed),
            { ...job('cancelled', 'Failure', 'This job was canceled'), ErrorCode: 37 },
            job('odd', 'Exploded'),
          ],
        ];
      });
    const ids = ['pending', 'paused', 'retry', 'running', 'done', 'refused', 'hung', '0xc000', 'cancelled', 'odd', 'evicted'];
    const states = await adapter().retrievalStates(ids);
    expect(requests).toBe(1);
    expect(Object.fromEntries(states)).toEqual({
      pending: { state: 'pending' },
      paused: { state: 'pending' },
      retry: { state: 'pending' },
      running: { state: 'running' },
      done: { state: 'succeeded' },
      refused: { state: 'failed', reason: 'unreachable' },
      hung: { state: 'failed', reason: 'timed-out' },
      // Orthanc's C-MOVE SCP says "resource not found ?" for every failure: not trusted as not-found.
      '0xc000': { state: 'failed', reason: 'protocol' },
      cancelled: { state: 'failed', reason: 'protocol' },
      odd: { state: 'unknown' },
      evicted: { state: 'unknown' },
    });
  });

  it('asks nothing for no jobs', async () => {
    expect((await adapter().retrievalStates([])).size).toBe(0);
  });
});
