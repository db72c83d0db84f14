import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log object. Secrets should never be logged in the first place;
 * this is the net under that rule, for fields whose names say they may hold one.
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'secret',
  '*.secret',
  '*.secrets',
  'password',
  '*.password',
  'projectId',
  '*.projectId',
  'project_id_secret',
  'accessKeyId',
  '*.accessKeyId',
  'secretAccessKey',
  '*.secretAccessKey',
  'credentials',
  '*.credentials',
  'env',
  '*.env',
  'headers.authorization',
  '*.headers.authorization',
  'fields',
  '*.fields',
];

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'cloud-chatops' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
