export interface Stage {
  from: string;
  name: string | undefined;
  instructions: { op: string; args: string }[];
}

/** A Dockerfile as its stages: base image, name, and instructions (continuations joined, comments dropped). */
export function dockerfileStages(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) && current === '') continue; // comments and parser directives
    if (/^\s*#/.test(line)) continue; // comment lines inside a continuation
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(l)!;
    const op = m[1]!.toUpperCase();
    const args = m[2]!;
    if (op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args)!;
      stages.push({ from: f[1]!, name: f[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ op, args });
    }
  }
  return stages;
}
