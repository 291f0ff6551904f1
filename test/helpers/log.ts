import type { Log } from '../../lib/logger';

export interface LoggedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: Record<string, unknown>;
}

/** A Log that keeps every line it is given, in order, for a test to read (`lines.length = 0` clears it). */
export function capturingLog(): { log: Log; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at =
    (level: LoggedLine['level']) =>
    (message: string, extra: Record<string, unknown> = {}): void =>
      void lines.push({ level, message, extra });
  const log: Log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}
