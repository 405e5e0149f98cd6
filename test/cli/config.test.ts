import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_CONFIG, loadConfig } from '../../src/config/index.ts';
import { TgError } from '../../src/errors/index.ts';
import { tempDir } from './run-cli.ts';

function configError(fn: () => unknown): TgError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TgError, `expected a TgError, got ${err}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('config', () => {
  it('layers defaults < file < environment < flags', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'tg.config.json'), JSON.stringify({ port: 8100, up: { episodes: 4 } }));
    const fileOnly = loadConfig({ cwd, env: {} });
    assert.equal(fileOnly.config.port, 8100);
    assert.equal(fileOnly.config.up.episodes, 4);
    assert.equal(fileOnly.config.up.fps, DEFAULT_CONFIG.up.fps, 'nested defaults survive a partial file');
    assert.equal(fileOnly.config.home, path.join(cwd, '.tg'), 'home resolves against the working dir');

    const withEnv = loadConfig({ cwd, env: { TG_PORT: '8200', TG_HOME: '/data/tg' } });
    assert.equal(withEnv.config.port, 8200);
    assert.equal(withEnv.config.home, '/data/tg');

    const withFlags = loadConfig({ cwd, env: { TG_PORT: '8200' }, flags: { port: 8300 } });
    assert.equal(withFlags.config.port, 8300);
    assert.deepEqual(withFlags.sources, [
      'defaults',
      path.join(cwd, 'tg.config.json'),
      'environment',
      'flags',
    ]);
  });

  it('names the bad key, what was expected and where it came from', () => {
    const cwd = tempDir();
    const file = path.join(cwd, 'tg.config.json');
    writeFileSync(file, JSON.stringify({ up: { episodes: 0 } }));
    const err = configError(() => loadConfig({ cwd, env: {} }));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.match(err.message, /"up\.episodes"/);
    assert.match(err.message, />=\s*1/);
    assert.ok(err.message.includes(file), 'the message names the file');
  });

  it('rejects unknown keys instead of ignoring typos', () => {
    const err = configError(() => loadConfig({ cwd: tempDir(), env: {}, flags: { prot: 1 } }));
    assert.match(err.message, /unknown key "prot"/);
  });

  it('rejects a non-integer TG_PORT naming the variable', () => {
    const err = configError(() => loadConfig({ cwd: tempDir(), env: { TG_PORT: '80a' } }));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.match(err.message, /TG_PORT: expected an integer, got "80a"/);
  });

  it('rejects URLs of the wrong scheme', () => {
    const err = configError(() => loadConfig({ cwd: tempDir(), env: { TG_DATABASE_URL: 'mysql://db' } }));
    assert.match(err.message, /"databaseUrl": expected a postgres/);
    assert.match(err.message, /environment/);
    const ok = loadConfig({ cwd: tempDir(), env: { TG_NATS_URL: 'nats://127.0.0.1:4222' } });
    assert.equal(ok.config.natsUrl, 'nats://127.0.0.1:4222');
  });

  it('reports a config file that is not JSON or not an object', () => {
    const cwd = tempDir();
    const file = path.join(cwd, 'broken.json');
    writeFileSync(file, '{"port": 7800,');
    const err = configError(() => loadConfig({ cwd, env: {}, file: 'broken.json' }));
    assert.equal(err.code, 'CONFIG_UNREADABLE');
    assert.ok(err.message.includes(file));
    writeFileSync(file, '[1,2]');
    assert.equal(configError(() => loadConfig({ cwd, env: {}, file })).code, 'CONFIG_INVALID');
    assert.equal(
      configError(() => loadConfig({ cwd, env: {}, file: 'missing.json' })).code,
      'CONFIG_UNREADABLE',
    );
  });
});
