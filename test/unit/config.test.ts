import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, projectRoot, redactSecrets, settings } from '../../src/config/config';
import { configRefusal, safeProduction } from '../support/production-env';

const refusal = configRefusal;

const production = safeProduction;

describe('configuration', () => {
  it('starts in development mode on embedded defaults with an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ mode: 'development', port: 3978, host: '127.0.0.1', timeZone: 'Europe/London', logLevel: 'info' });
    expect(config.microsoftApp.appId).toBe('');
    expect(config.guideFile).toBe(path.join(projectRoot, 'content', 'guide.json'));
  });

  it('cannot fall into development mode by accident: real credentials or a public address refuse the start', () => {
    const credentials = refusal({ MicrosoftAppId: '11111111-1111-1111-1111-111111111111', MicrosoftAppPassword: 'secret' });
    expect(credentials.reason).toBe('unsafe-development');
    expect(credentials.message).toContain('NODE_ENV');
    for (const host of ['0.0.0.0', '10.1.2.3', '::', 'bot.example.org']) {
      const error = refusal({ HOST: host });
      expect(error.reason).toBe('unsafe-development');
      expect(error.key).toBe('HOST');
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) expect(parseConfig({ HOST: host }).host).toBe(host);
    // Production listens on every interface unless told otherwise.
    expect(parseConfig(production).host).toBe('0.0.0.0');
  });

  it('polls the PACS every 0.5 s unless told otherwise', () => {
    expect(parseConfig({}).pacs.pollIntervalMs).toBe(500);
    expect(parseConfig({ PACS_POLL_INTERVAL_S: '2' }).pacs.pollIntervalMs).toBe(2000);
  });

  it('treats empty values as unset, as a copied .env.example has them', () => {
    expect(parseConfig({ PORT: '', MicrosoftAppId: '  ' }).port).toBe(3978);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['NODE_ENV', 'staging'],
    ['MicrosoftAppType', 'Personal'],
    ['TRUST_TIME_ZONE', 'Europe/Londres'],
    ['LOG_LEVEL', 'verbose'],
    ['PACS_POLL_INTERVAL_S', '0'],
    ['PACS_POLL_INTERVAL_S', 'often'],
  ])('refuses %s=%s with a message naming the key', (key, value) => {
    const error = refusal({ [key]: value });
    expect(error.reason).toBe('invalid-value');
    expect(error.key).toBe(key);
    expect(error.message).toContain(key);
  });

  describe('development mode (no authentication)', () => {
    it.each([
      ['PACS_BACKEND', { PACS_BACKEND: 'orthanc' }],
      ['DATABASE_URL', { DATABASE_URL: 'postgres://bot@127.0.0.1/isa' }],
    ])('refuses a real %s unless TEST_LAB=true says the machine is a test lab', (key, env) => {
      const error = refusal(env);
      expect(error.reason).toBe('unsafe-development');
      expect(error.key).toBe(key);
      expect(error.message).toContain('TEST_LAB=true');
      expect(parseConfig({ ...env, TEST_LAB: 'true' }).mode).toBe('development');
      expect(parseConfig({ ...production, ...env }).mode).toBe('production');
    });
  });

  describe('production refuses settings that would fail at 2am', () => {
    it.each([
      ['CARD_SIGNING_SECRET', { CARD_SIGNING_SECRET: '' }, /needs CARD_SIGNING_SECRET/],
      [
        'CARD_SIGNING_SECRET_PREVIOUS',
        { CARD_SIGNING_SECRET_PREVIOUS: safeProduction.CARD_SIGNING_SECRET },
        /to differ from CARD_SIGNING_SECRET/,
      ],
      ['ALLOWED_TENANT_IDS', { ALLOWED_TENANT_IDS: ' , ' }, /needs ALLOWED_TENANT_IDS/],
      ['PACS_BACKEND', { PACS_BACKEND: 'demo' }, /cannot use PACS_BACKEND=demo/],
      ['DATABASE_URL', { DATABASE_URL: 'sqlite::memory:', SINGLE_INSTANCE: 'true' }, /in memory/],
      ['SINGLE_INSTANCE', { DATABASE_URL: '' }, /set SINGLE_INSTANCE=true/],
      ['SINGLE_INSTANCE', { DATABASE_URL: 'sqlite:data/bot.sqlite', SINGLE_INSTANCE: 'false' }, /set SINGLE_INSTANCE=true/],
    ])('refuses an unsafe %s, naming it in one line', (key, env, why) => {
      const error = refusal({ ...production, ...env });
      expect(error.reason).toBe('unsafe-production');
      expect(error.key).toBe(key);
      expect(error.message).toMatch(why);
      expect(error.message).toMatch(/refusing to start\.$/);
      expect(error.message).not.toContain('\n');
      // Development mode accepts the same values (it has its own embedded defaults).
      expect(parseConfig({ ...env, PACS_BACKEND: 'demo', DATABASE_URL: 'sqlite::memory:' }).mode).toBe('development');
    });

    it('refuses a short CARD_SIGNING_SECRET (in any mode) without quoting it', () => {
      for (const key of ['CARD_SIGNING_SECRET', 'CARD_SIGNING_SECRET_PREVIOUS']) {
        const error = refusal({ ...production, [key]: 'Sh0rtButSecret' });
        expect([error.key, error.reason, error.message]).toEqual([
          key,
          'invalid-value',
          `${key} is invalid: must be at least 32 characters`,
        ]);
      }
    });

    it('accepts SQLite in production when SINGLE_INSTANCE=true says exactly one instance runs', () => {
      const config = parseConfig({ ...production, DATABASE_URL: 'sqlite:data/bot.sqlite', SINGLE_INSTANCE: 'true' });
      expect(config.databaseUrl).toBe(`sqlite:${path.join(projectRoot, 'data', 'bot.sqlite')}`);
    });

    it('signs with the configured secret and keeps the previous one for verifying', () => {
      const previous = 'the-secret-before-the-rotation-0123456789';
      const config = parseConfig({ ...production, CARD_SIGNING_SECRET_PREVIOUS: previous });
      expect(config.cardSigningSecret).toBe(safeProduction.CARD_SIGNING_SECRET);
      expect(config.previousCardSigningSecret).toBe(previous);
      expect(parseConfig(production).previousCardSigningSecret).toBeNull();
    });
  });

  describe('AUDIT_RETENTION_DAYS', () => {
    it('keeps the audit trail for ever by default, else for the days given', () => {
      expect(parseConfig({}).auditRetentionDays).toBeNull();
      expect(parseConfig({ AUDIT_RETENTION_DAYS: '2922' }).auditRetentionDays).toBe(2922);
    });

    it.each(['0', '-5', '1.5', 'forever'])('refuses AUDIT_RETENTION_DAYS=%s, naming it', (value) => {
      const error = refusal({ AUDIT_RETENTION_DAYS: value });
      expect([error.key, error.reason]).toEqual(['AUDIT_RETENTION_DAYS', 'invalid-value']);
    });
  });

  describe('production', () => {
    const complete = production;

    it('accepts a complete single-tenant registration', () => {
      expect(parseConfig(complete).mode).toBe('production');
    });

    it.each(['MicrosoftAppId', 'MicrosoftAppPassword', 'MicrosoftAppType', 'MicrosoftAppTenantId'])(
      'refuses to start without %s',
      (key) => {
        const error = refusal({ ...complete, [key]: '' });
        expect(error.reason).toBe('missing-credentials');
        expect(error.key).toBe(key);
        expect(error.message).toMatch(/NODE_ENV=production needs .* refusing to start/);
      },
    );

    it('does not ask a multi-tenant bot for a tenant id', () => {
      expect(parseConfig({ ...complete, MicrosoftAppType: 'MultiTenant', MicrosoftAppTenantId: '' }).mode).toBe('production');
    });
  });

  it('.env.example lists exactly the settings the config module reads', () => {
    const text = fs.readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
    const keys = text
      .split('\n')
      .filter((line) => /^[A-Za-z_]+=/.test(line))
      .map((line) => line.split('=')[0]);
    expect(keys.sort()).toEqual(Object.keys(settings).sort());
    for (const [key, s] of Object.entries(settings)) {
      expect(text).toContain(`# ${s.description}\n${key}=`);
    }
  });

  it('is the only module that reads process.env', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (
          file.endsWith('.ts') &&
          fs.readFileSync(file, 'utf8').includes('process.env') &&
          !file.endsWith(path.join('config', 'config.ts'))
        ) {
          offenders.push(path.relative(projectRoot, file));
        }
      }
    };
    walk(path.join(projectRoot, 'src'));
    expect(offenders).toEqual([]);
  });
});

describe('start-up messages never carry a secret', () => {
  it('blanks every configured secret and a database URL password, encoded or not', () => {
    const env = {
      MicrosoftAppPassword: 'app-secret-value',
      DATABASE_URL: 'postgres://bot:p%40ss%2Fword@db:5432/isa',
      CARD_SIGNING_SECRET: '',
    };
    const text = 'failed with app-secret-value for postgres://bot:p%40ss%2Fword@db:5432/isa (password p@ss/word)';
    expect(redactSecrets(text, env)).toBe('failed with [redacted] for [redacted] (password [redacted])');
    expect(redactSecrets('nothing secret here', env)).toBe('nothing secret here');
  });
});
