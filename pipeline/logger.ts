import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redact } from './secrets.js';

export type { Logger };

/**
 * JSON lines on stderr (stdout carries data for `sql`, `status`, `sentiment`), pretty when stderr is
 * a terminal. Every line passes through `redact`, so a secret value never reaches a log.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: null,
    hooks: { streamWrite: (line: string) => redact(line) },
    serializers: { err: pino.stdSerializers.err },
  };
  if ((destination as NodeJS.WriteStream).isTTY && process.env.CI === undefined) {
    return pino(options, pretty({ destination, colorize: true, translateTime: 'SYS:HH:MM:ss', sync: true }));
  }
  return pino(options, destination);
}

/** A logger that drops everything, for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
