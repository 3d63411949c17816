/**
 * The variables a Markdown document's configuration table names: every `NAME` in
 * backticks in the first column of the table under the heading `## <heading>`.
 */
export function tableVariables(markdown: string, heading: string): Set<string> {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const section = markdown.slice(start + 1).split(/\n## /)[0]!;
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  }
  return names;
}
