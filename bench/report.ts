/** One measured figure, printed as a row of the results table. */
export interface Figure {
  section: string;
  name: string;
  value: string;
  /** The target, as text ("≥ 25,000 jobs/s"); undefined for figures given for information. */
  target?: string;
  pass?: boolean;
  note?: string;
}

export const fmt = {
  int: (value: number) => Math.round(value).toLocaleString('en-US'),
  ms: (value: number, digits = 1) => `${value.toFixed(digits)} ms`,
  kb: (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`,
};

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function verdict(figure: Figure): string {
  if (figure.pass === undefined) return '';
  return figure.pass ? 'PASS' : 'FAIL';
}

/** A plain-text table for the terminal. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(headers: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

export const FIGURE_HEADERS = ['Section', 'Measure', 'Value', 'Target', 'Result'];

export function figureRows(figures: Figure[]): string[][] {
  return figures.map((figure) => [
    figure.section,
    figure.name,
    figure.value,
    figure.target ?? '(info)',
    verdict(figure),
  ]);
}
