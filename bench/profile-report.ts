import { fmt } from './report';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time of a V8 CPU profile, by package / file and by function. */
export function printProfile(profile: {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}) {
  const self = new Map<number, number>();
  profile.samples?.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)),
  );
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
    const key = `${functionName || '(anonymous)'} ${file.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const area =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ??
      (file.startsWith('lib/')
        ? file
        : file === ''
          ? functionName || '(native)'
          : 'node internals');
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log('  by package / file:');
  for (const [key, us] of top(byArea, 14))
    console.log(`    ${fmt.ms(us / 1000, 0).padStart(8)}  ${key}`);
  console.log('  by function:');
  for (const [key, us] of top(byFunction, 20))
    console.log(`    ${fmt.ms(us / 1000, 0).padStart(8)}  ${key}`);
}
