/**
 * One error base with a `reason`: every error the bot raises itself is an AppError, and `reasonOf`
 * reads its reason (never a message, which may quote input), null for anyone else's error.
 */
import { NotifierError } from '../../src/adapters/notifier/teams-notifier';
import { CardError } from '../../src/cards/card-renderer';
import { ConfigError } from '../../src/config/config';
import { AppError, reasonOf } from '../../src/domain/app-error';
import { GuideError } from '../../src/domain/guide/guide';
import { PacsError } from '../../src/ports/pacs-port';
import { StoreError } from '../../src/ports/store-port';
import { DeadlineError } from '../../src/support/deadline';

describe('AppError', () => {
  it.each([
    [new ConfigError('invalid-value', 'PORT', 'PORT is invalid'), 'ConfigError', 'invalid-value'],
    [new GuideError('sections', 'guide field sections: Required'), 'GuideError', 'invalid-guide'],
    [new StoreError('unavailable', 'the store is closed'), 'StoreError', 'unavailable'],
    [new PacsError('timed-out', 'Exeter did not answer', 'exeter'), 'PacsError', 'timed-out'],
    [new CardError('too-large', 'card over 28 KB'), 'CardError', 'too-large'],
    [new NotifierError('invalid-options', 'bad option'), 'NotifierError', 'invalid-options'],
    [new DeadlineError('the Bot Connector', 15_000), 'DeadlineError', 'timed-out'],
  ])('%s is an AppError named %s with reason %s', (error, name, reason) => {
    expect(error).toBeInstanceOf(AppError);
    expect(error).toBeInstanceOf(Error);
    expect([error.name, reasonOf(error)]).toEqual([name, reason]);
  });

  it('reads no reason from errors the bot did not raise, whatever they carry', () => {
    expect(reasonOf(Object.assign(new Error('socket hang up'), { reason: 'looks-like-one' }))).toBeNull();
    expect(reasonOf('a string')).toBeNull();
    expect(reasonOf(undefined)).toBeNull();
  });
});
