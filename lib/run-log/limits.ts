/** How much of what one run logs is kept with it; later lines are dropped behind one marker. */
export const RUN_LOG_LIMITS = {
  /** Lines kept per run, the truncation marker included. */
  maxLines: 1000,
  /** UTF-8 bytes of messages and fields kept per run. */
  maxBytes: 256 * 1024,
  /** One message is cut to this many characters before it counts against maxBytes. */
  maxMessageChars: 4096,
} as const;

/** Lines one GET .../log answer carries at most; the viewer pages on with `after`. */
export const RUN_LOG_PAGE_LINES = 500;

export const runLogLevels = ['debug', 'info', 'warn', 'error'] as const;
export type RunLogLevel = (typeof runLogLevels)[number];

export const TRUNCATION_MESSAGE =
  `log truncated: a run keeps at most ${RUN_LOG_LIMITS.maxLines} lines and ` +
  `${RUN_LOG_LIMITS.maxBytes / 1024} KiB; later lines were dropped`;
