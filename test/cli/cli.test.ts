import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runTg, tempDir } from './run-cli.ts';

/** A user error is exactly one line on stderr, no stack trace, and a non-zero exit. */
function assertOneLineError(run: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  assert.notEqual(run.code, 0);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${run.stderr}`);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(run.stdout, '');
}

describe('tg CLI', () => {
  it('rejects an unknown command with a suggestion', async () => {
    const run = await runTg(['upp']);
    assertOneLineError(run, /^tg: unknown command 'upp'/);
    assert.match(run.stderr, /Did you mean up\?/);
    assert.equal(run.code, 2);
  });

  it('rejects a bad flag value naming the flag', async () => {
    const run = await runTg(['up', '--episodes', 'three']);
    assertOneLineError(run, /--episodes.*expected an integer, got "three"/);
    const port = await runTg(['--port', '70000', 'config']);
    assertOneLineError(port, /--port.*from 0 to 65535/);
  });

  it('rejects a broken config file and leaves TG_HOME untouched', async () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'tg.config.json'), '{ "port": 7800, "up": { "episodes": -2 } }');
    const home = path.join(cwd, 'home');
    const run = await runTg(['up', '--episodes', '1', '--exit'], { cwd, env: { TG_HOME: home } });
    assertOneLineError(run, /invalid config .*tg\.config\.json.*"up\.episodes"/);
    assert.match(run.stderr, /\[CONFIG_INVALID\]$/m);
    assert.equal(existsSync(home), false, 'nothing is created under TG_HOME');

    writeFileSync(path.join(cwd, 'tg.config.json'), '{ "port": ');
    const broken = await runTg(['config'], { cwd });
    assertOneLineError(broken, /not valid JSON/);
  });

  it('prints the effective config as JSON and as text', async () => {
    const cwd = tempDir();
    const json = await runTg(['config', '--json'], { cwd, env: { TG_PORT: '8123' } });
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.config.port, 8123);
    assert.equal(parsed.config.home, path.join(cwd, '.tg'));
    assert.deepEqual(parsed.sources, ['defaults', 'environment']);
    const text = await runTg(['config', '--port', '9000'], { cwd });
    assert.match(text.stdout, /^port = 9000$/m);
    assert.match(text.stdout, /^up\.episodes = 10$/m);
  });

  it('shows the stack trace only with --debug', async () => {
    const run = await runTg(['bench', 'no-such-bench']);
    assertOneLineError(run, /no benchmark "no-such-bench"/);
    const debug = await runTg(['bench', 'no-such-bench', '--debug']);
    assert.notEqual(debug.code, 0);
    assert.match(debug.stderr, /\n\s+at /);
  });

  it('refuses a home that another tg process holds', async () => {
    const home = tempDir();
    writeFileSync(path.join(home, 'tg.lock'), String(process.pid));
    const run = await runTg(['up', '--episodes', '1', '--exit', '--port', '0'], { env: { TG_HOME: home } });
    assertOneLineError(run, /in use by another tg process/);
    assert.deepEqual(readdirSync(home), ['tg.lock'], 'nothing else written');
  });
});
