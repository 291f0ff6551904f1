import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slug } from '../../scripts/generate-api-docs';
import { fencedBlocks, markdownFiles, readRepoFile, repoRoot, tableCells } from './markdown';

const docs = markdownFiles();

describe('code quoted in the documentation', () => {
  const quoted = docs.flatMap((file) =>
    fencedBlocks(file).filter((block) => block.annotation?.startsWith('file:')),
  );

  it('the tutorial quotes its example files', () => {
    const files = quoted.map((block) => block.annotation!.slice('file:'.length).trim());
    expect(files).toEqual(
      expect.arrayContaining([
        'lib/executors/custom/deactivate-dormant-users.ts',
        'examples/registry.ts',
        'test/docs/example-executor.test.ts',
      ]),
    );
  });

  it.each(quoted.map((block) => [`${block.file}:${block.line}`, block] as const))(
    '%s is identical to the file it names',
    (_where, block) => {
      const file = block.annotation!.slice('file:'.length).trim();
      expect(block.content, `update the block from ${file}`).toBe(readRepoFile(file).trimEnd());
    },
  );

  it('every TypeScript block is a quoted file or a marked excerpt that matches its source', () => {
    for (const file of docs.filter((name) => name.startsWith('docs/'))) {
      for (const block of fencedBlocks(file).filter((b) => b.lang === 'ts')) {
        const where = `${file}:${block.line}`;
        const excerpt = /^excerpt of (\S+) with (\w+) added$/.exec(block.annotation ?? '');
        if (block.annotation?.startsWith('file:')) continue;
        expect(excerpt, `${where}: mark it <!-- file: … --> or <!-- excerpt of … -->`).toBeTruthy();
        const [, source = '', added = ''] = excerpt!;
        // The lines besides the added ones appear in the source in this order, whether or not the
        // reader has made the edit yet: following the tutorial must not break this check.
        const kept = block.content.split('\n').filter((line) => !line.includes(added));
        const lines = readRepoFile(source).split('\n');
        let at = 0;
        for (const line of kept) {
          const found = lines.indexOf(line, at);
          expect(
            found,
            `${where}: no longer matches ${source} at ${JSON.stringify(line)}`,
          ).toBeGreaterThanOrEqual(0);
          at = found + 1;
        }
      }
    }
  });
});

describe('the runbook and the monitoring page cover the stack', () => {
  it('every alarm in infra/alarms.ts has a section in docs/troubleshooting.md', () => {
    const alarms = [...readRepoFile('infra/alarms.ts').matchAll(/this\.add\(\s*'(\w+)'/g)].map(
      (match) => match[1]!,
    );
    expect(alarms.length, 'no alarms found in infra/alarms.ts: update this test').toBeGreaterThan(
      0,
    );
    const runbook = readRepoFile('docs/troubleshooting.md');
    for (const alarm of alarms) expect(runbook).toContain(`### \`${alarm}\``);
  });

  it('every metric run-due-jobs publishes is described in docs/monitoring.md', () => {
    const metrics = [
      ...readRepoFile('lib/lambda/metrics.ts').matchAll(/addMetric\(\s*'(\w+)'/g),
    ].map((match) => match[1]!);
    expect(metrics.length).toBeGreaterThan(0);
    const rows = readRepoFile('docs/monitoring.md')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => tableCells(line)[0]);
    for (const metric of metrics) expect(rows).toContain(`\`${metric}\``);
  });

  it('every log message in docs/monitoring.md is one the code writes', () => {
    const page = readRepoFile('docs/monitoring.md');
    const table = page.slice(page.indexOf('## Logs'), page.indexOf('## Through the API'));
    const messages = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .slice(1) // the header row
      .map((line) => /^`([^`]+)`$/.exec(tableCells(line)[0]!)?.[1])
      .filter((message): message is string => message !== undefined);
    expect(messages.length).toBeGreaterThan(5);
    const sources = ['lib', 'functions']
      .flatMap((dir) =>
        readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
          .filter((name) => name.endsWith('.ts'))
          .map((name) => readRepoFile(path.join(dir, name))),
      )
      .join('\n');
    const unknown = messages.filter((message) => !sources.includes(`'${message}'`));
    expect(unknown, 'log messages no source file writes').toEqual([]);
  });
});

describe('links between the pages', () => {
  /** Anchors GitHub gives the headings of a Markdown file. */
  const anchors = (file: string): Set<string> => {
    const seen = new Map<string, number>();
    const result = new Set<string>();
    let fenced = false;
    for (const line of readRepoFile(file).split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (!heading) continue;
      const text = heading[1]!
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/[`*]|\b_|_\b(?!\w)/g, '');
      const base = slug(text);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      result.add(count === 0 ? base : `${base}-${count}`);
    }
    return result;
  };

  it.each(docs)('%s: relative links and anchors resolve', (file) => {
    const text = readRepoFile(file).replace(/```[\s\S]*?```/g, '');
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
    for (const link of links) {
      if (/^[a-z]+:/i.test(link)) continue;
      const [target = '', anchor] = link.split('#');
      const resolved = target === '' ? file : path.join(path.dirname(file), target);
      expect(
        readdirSync(path.join(repoRoot, path.dirname(resolved))),
        `${file}: ${link}`,
      ).toContain(path.basename(resolved) || '.');
      if (anchor && resolved.endsWith('.md')) {
        expect([...anchors(resolved)], `${file}: ${link}`).toContain(anchor);
      }
    }
  });
});
