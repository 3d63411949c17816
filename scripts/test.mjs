#!/usr/bin/env node
/**
 * `npm test`: what the tests need → build → every Vitest suite → one closing line.
 *
 * 1. Prerequisites: redis-server, chromium, nginx and the page's fonts. What is missing is
 *    installed with apt-get when this runs as root or with passwordless sudo on
 *    Debian/Ubuntu; otherwise the run stops at once, printing the command to run.
 *    Skipping is explicit: SKIP_REDIS=1, SKIP_BROWSER=1, SKIP_NGINX=1 leave out the tests
 *    that need them (reported as skipped) and what only they need.
 * 2. `npm run build` (the browser tests and the process tests run the build).
 * 3. The suites: protocol, ai-server, testkit, frontend (jsdom), frontend e2e (Chromium), root
 *    (deployment files). All of them run, even after a failure.
 * 4. The last line: "N passed, N failed, N skipped" over every suite; the exit code is 1
 *    when a test or a suite failed.
 *
 *   node scripts/test.mjs --dry-run   checks the prerequisites, prints what it would do, runs nothing
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dryRun = process.argv.includes('--dry-run');
const flag = (name) => /^(1|true|yes)$/i.test(process.env[name] ?? '');

// ---- prerequisites ---------------------------------------------------------------------

/** Where `name` is: its override variable, else PATH, /usr/sbin, /sbin (as the test kit looks). */
function findBinary(name, override) {
  if (process.env[override]) return existsSync(process.env[override]) ? process.env[override] : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean).concat(['/usr/sbin', '/sbin']);
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

function debPackageInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** What the tests need, the Debian package that brings it, and the variable that skips its tests. */
const REQUIREMENTS = [
  { what: 'redis-server', apt: 'redis-server', skipVar: 'SKIP_REDIS', present: () => findBinary('redis-server', 'REDIS_SERVER_BIN') },
  { what: 'redis-cli', apt: 'redis-server', skipVar: 'SKIP_REDIS', present: () => findBinary('redis-cli', 'REDIS_CLI_BIN') },
  { what: 'chromium', apt: 'chromium', skipVar: 'SKIP_BROWSER', present: () => findBinary('chromium', 'CHROMIUM_PATH') },
  { what: 'the Liberation fonts', apt: 'fonts-liberation', skipVar: 'SKIP_BROWSER', present: () => debPackageInstalled('fonts-liberation') },
  { what: 'the Noto CJK fonts', apt: 'fonts-noto-cjk', skipVar: 'SKIP_BROWSER', present: () => debPackageInstalled('fonts-noto-cjk') },
  { what: 'nginx', apt: 'nginx', skipVar: 'SKIP_NGINX', present: () => findBinary('nginx', 'NGINX_BIN') },
];

function canRun(cmd, args) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** How packages can be installed here: as root, with `sudo -n`, or not at all. */
function installer() {
  const debian = existsSync('/etc/debian_version') && canRun('apt-get', ['--version']);
  if (!debian) return null;
  if (process.getuid?.() === 0) return [];
  if (canRun('sudo', ['-n', 'true'])) return ['sudo', '-n'];
  return null;
}

function prerequisites() {
  const skipped = [...new Set(REQUIREMENTS.filter((r) => flag(r.skipVar)).map((r) => r.skipVar))];
  if (skipped.length > 0) console.log(`prerequisites: skipping by choice: ${skipped.map((v) => `${v}=1`).join(' ')}`);
  const missing = REQUIREMENTS.filter((r) => !flag(r.skipVar) && !r.present());
  if (missing.length === 0) {
    console.log('prerequisites: all present');
    return;
  }
  const packages = [...new Set(missing.map((r) => r.apt))];
  const install = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  console.log(`prerequisites: missing ${missing.map((r) => r.what).join(', ')}`);
  const sudo = installer();
  if (sudo === null) {
    const vars = [...new Set(missing.map((r) => r.skipVar))].map((v) => `${v}=1`).join(' ');
    console.error(
      `\nnpm test cannot install them here (it needs root or passwordless sudo on Debian/Ubuntu). Run:\n\n` +
        `  sudo apt-get update && sudo ${install}\n\n` +
        `then npm test again; or skip the tests that need them: ${vars} npm test`,
    );
    process.exit(1);
  }
  const prefix = sudo.join(' ');
  const commands = [`${prefix} apt-get update`.trim(), `${prefix} ${install}`.trim()];
  if (dryRun) {
    console.log(`prerequisites: would run:\n  ${commands.join('\n  ')}`);
    return;
  }
  console.log(`prerequisites: installing: ${commands.join(' && ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...base] = sudo.length > 0 ? sudo.concat('apt-get') : ['apt-get'];
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    const r = spawnSync(cmd, [...base, ...args], { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`prerequisites: \`${[cmd, ...base, ...args].join(' ')}\` failed (exit ${r.status})`);
      process.exit(1);
    }
  }
  const still = missing.filter((r) => !r.present());
  if (still.length > 0) {
    console.error(`prerequisites: still missing after the install: ${still.map((r) => r.what).join(', ')}`);
    process.exit(1);
  }
}

// ---- suites ----------------------------------------------------------------------------

const SUITES = [
  { name: 'protocol', cwd: 'protocol', args: [] },
  { name: 'ai-server', cwd: 'ai-server', args: [] },
  { name: 'testkit', cwd: 'testkit', args: [] },
  { name: 'frontend', cwd: 'frontend', args: [] },
  { name: 'frontend e2e', cwd: 'frontend', args: ['--config', 'vitest.e2e.config.ts'] },
  { name: 'root', cwd: '.', args: [] },
];

function vitestBin() {
  const bin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'vitest.cmd' : 'vitest');
  if (!existsSync(bin)) {
    console.error('vitest is not installed: npm install first');
    process.exit(1);
  }
  return bin;
}

/** Runs one suite with the default reporter on the terminal and the JSON one into a file. */
function runSuite(suite, bin, dir) {
  const out = join(dir, `${suite.name.replace(/\W+/g, '-')}.json`);
  console.log(`\n=== ${suite.name}`);
  const r = spawnSync(bin, ['run', ...suite.args, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], {
    cwd: join(root, suite.cwd),
    stdio: 'inherit',
  });
  const counts = { passed: 0, failed: 0, skipped: 0, exit: r.status ?? 1 };
  if (existsSync(out)) {
    const report = JSON.parse(readFileSync(out, 'utf8'));
    counts.passed = report.numPassedTests;
    counts.failed = report.numFailedTests;
    counts.skipped = report.numPendingTests + report.numTodoTests;
  }
  return counts;
}

// ---- main ------------------------------------------------------------------------------

prerequisites();
if (dryRun) process.exit(0);

console.log('\n=== build');
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

const bin = vitestBin();
const dir = mkdtempSync(join(tmpdir(), 'vitest-report-'));
const results = SUITES.map((s) => ({ name: s.name, ...runSuite(s, bin, dir) }));
rmSync(dir, { recursive: true, force: true });

console.log('');
for (const r of results) {
  const note = r.exit !== 0 && r.failed === 0 ? ' (the suite failed to run)' : '';
  console.log(`${r.name.padEnd(14)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${note}`);
}
const sum = (k) => results.reduce((a, r) => a + r[k], 0);
const failed = results.some((r) => r.exit !== 0) || sum('failed') > 0;
console.log(`${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
process.exit(failed ? 1 : 0);
