/**
 * The error that stops the start: a setting refused, named by its key, in words that never quote
 * the value given (a setting may be a secret).
 */
import { AppError } from '../domain/app-error';
import type { SettingKey } from './settings';

/** Why the configuration was refused. */
export type ConfigErrorReason = 'invalid-value' | 'missing-credentials' | 'unsafe-development' | 'unsafe-production';

/** A configuration that must stop the start; `message` names the key. */
export class ConfigError extends AppError<ConfigErrorReason> {
  override readonly name = 'ConfigError';
  constructor(
    reason: ConfigErrorReason,
    readonly key: SettingKey,
    message: string,
  ) {
    super(reason, message);
  }
}
