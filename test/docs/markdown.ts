import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface FencedBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  content: string;
  /** The text of an HTML comment on the last non-blank line before the fence, if any. */
  annotation: string | undefined;
}

/** README.md and every Markdown file under docs/, repository-relative. */
export function markdownFiles(): string[] {
  const docs = readdirSync(path.join(repoRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join('docs', name))
    .sort();
  return ['README.md', ...docs];
}

export function readRepoFile(file: string): string {
  return readFileSync(path.join(repoRoot, file), 'utf8');
}

/** The fenced code blocks of a Markdown file, in order. */
export function fencedBlocks(file: string): FencedBlock[] {
  const lines = readRepoFile(file).split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([\w+-]*).*$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', lang = ''] = open;
    let previous = i - 1;
    while (previous >= 0 && lines[previous]!.trim() === '') previous--;
    const comment = previous >= 0 ? /^<!--\s*(.*?)\s*-->$/.exec(lines[previous]!.trim()) : null;
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]!); j++) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    }
    blocks.push({
      file,
      line: i + 1,
      lang: lang.toLowerCase(),
      content: body.join('\n'),
      annotation: comment?.[1],
    });
    i = j;
  }
  return blocks;
}

export const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);

export interface ShellCommand {
  file: string;
  line: number;
  command: string;
}

/**
 * The curl commands of a shell block: `\` continuations joined, a leading `$ ` prompt dropped,
 * comments and other commands skipped.
 */
export function curlCommands(block: FencedBlock): ShellCommand[] {
  const commands: ShellCommand[] = [];
  const lines = block.content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let command = lines[i]!;
    while (command.endsWith('\\') && i + 1 < lines.length) {
      command = `${command.slice(0, -1)}${lines[++i]!.trimStart()}`;
    }
    command = command.trim().replace(/^\$\s+/, '');
    if (/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*curl\s/.test(command)) {
      commands.push({ file: block.file, line: block.line + 1 + start, command });
    }
  }
  return commands;
}

/**
 * The rows of the Markdown table that follows the line `<!-- marker -->`, one array of cell texts
 * per row (header and separator dropped), for each occurrence of the marker.
 */
export function markedTables(
  file: string,
  marker: string,
): Array<{ line: number; cells: string[] }[]> {
  const lines = readRepoFile(file).split('\n');
  const tables: Array<{ line: number; cells: string[] }[]> = [];
  lines.forEach((text, index) => {
    if (text.trim() !== `<!-- ${marker} -->`) return;
    let i = index + 1;
    while (i < lines.length && lines[i]!.trim() === '') i++;
    const rows: { line: number; cells: string[] }[] = [];
    for (; i < lines.length && lines[i]!.trim().startsWith('|'); i++) {
      rows.push({ line: i + 1, cells: tableCells(lines[i]!) });
    }
    tables.push(rows.slice(2));
  });
  return tables;
}

/** Cells of a table row; `\|` is a pipe inside a cell. */
export function tableCells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** The text inside the first code span of a cell. */
export function codeSpan(cell: string): string | undefined {
  return /`([^`]*)`/.exec(cell)?.[1];
}
