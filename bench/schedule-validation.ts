/**
 * `npm run bench:schedules`: the CPU one job write spends on its schedule (parse, can-it-fire,
 * next slot, shortest interval for the sweep warning), for common and for rare expressions, each
 * measured on a fresh schedule text so no cache helps. Prints one line per expression: median and
 * worst CPU milliseconds over REPEAT distinct variants.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { nextSlot, parseSchedule, ScheduleError, shortestIntervalSeconds } from '../lib/schedule';

// Garbage is collected between samples, so one sample does not pay for the garbage of all before
// it (a validation makes a few kilobytes; a collection on a loaded machine costs milliseconds).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const REPEAT = 20;
const ZONE = 'America/New_York';
const NOW = new Date('2026-06-01T00:00:00Z');
const TARGET_MS = 5;

// `{s}` takes a distinct second (0-19) per variant, defeating the caches keyed by text.
const EXPRESSIONS = [
  'cron:{s} */5 * * * *',
  'cron:{s} 0 9 * * MON-FRI',
  'cron:{s} 0 0 * * SAT-SUN',
  'cron:{s} 0 0 29 2 *',
  'cron:{s} 59 23 29 2 *',
  'cron:{s} 0 0 L 2 *',
  'cron:{s} 0 0 * 2 5L',
  'cron:{s} 0 0 * 2 MON#5',
  'cron:{s} 0 0 * * 1#2',
  'cron:{s} 0 0 30 2 *',
];

function cpuMs(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function validate(schedule: string): 'accepted' | 'refused' {
  try {
    parseSchedule(schedule);
    nextSlot(schedule, ZONE, NOW);
    shortestIntervalSeconds(schedule, ZONE, NOW);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    return 'refused';
  }
}

// Warm up Intl and the JIT as a running server is: every form once, on texts (seconds 30-49) that
// are not measured, so the measured ones still miss every cache.
for (const template of EXPRESSIONS) {
  for (let s = 30; s < 30 + REPEAT; s++) validate(template.replace('{s}', String(s)));
}

const rows: string[] = [];
let worstOverall = 0;
for (const template of EXPRESSIONS) {
  const samples: number[] = [];
  let outcome = 'accepted';
  for (let s = 0; s < REPEAT; s++) {
    const schedule = template.replace('{s}', String(s));
    collectGarbage();
    samples.push(
      cpuMs(() => {
        outcome = validate(schedule);
      }),
    );
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)]!;
  const worst = samples.at(-1)!;
  worstOverall = Math.max(worstOverall, worst);
  rows.push(
    `${template.replace('{s}', 's').padEnd(30)} ${outcome.padEnd(9)} median ${median.toFixed(2).padStart(7)} ms  worst ${worst.toFixed(2).padStart(7)} ms CPU`,
  );
}
console.log(rows.join('\n'));
console.log(
  `worst ${worstOverall.toFixed(2)} ms CPU per validation; target < ${TARGET_MS} ms: ` +
    (worstOverall < TARGET_MS ? 'PASS' : 'FAIL'),
);
