import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.ts';

function assertInvalid(text: string, ...fragments: string[]): void {
  assert.throws(
    () => parseConfig(text, 'test.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'CONFIG_INVALID');
      for (const f of fragments)
        assert.ok(err.message.includes(f), `${err.message} should mention ${f}`);
      return true;
    },
  );
}

describe('config', () => {
  describe('#parseConfig', () => {
    it('gives the embedded defaults for an empty file', () => {
      const c = parseConfig('');
      assert.equal(c.server.host, '127.0.0.1');
      assert.equal(c.server.port, 8080);
      assert.equal(c.server.deadlineMs, 8000);
      assert.equal(c.limits.bodyBytes, 2 * 1024 * 1024);
      assert.deepEqual(c.endpoints.kubernetes.exemptNamespaces, ['kube-system', 'provgate']);
      assert.equal(c.endpoints.upload.statusStyle, 'decision');
      assert.deepEqual(c.trust.trustedRoots, []);
    });

    it('keeps given values and fills the rest', () => {
      const c = parseConfig(
        'server:\n  port: 9443\npolicy:\n  params:\n    allowed_sources: [github.com/a/b]\n',
      );
      assert.equal(c.server.port, 9443);
      assert.equal(c.server.host, '127.0.0.1');
      assert.deepEqual(c.policy.params, { allowed_sources: ['github.com/a/b'] });
    });

    it('names every invalid field and why', () => {
      assertInvalid(
        'server:\n  port: 99999\n  bogus: 1\nendpoints:\n  kubernetes:\n    mode: block\n',
        '/server/port: must be <= 65535',
        '/server: unknown field "bogus"',
        '/endpoints/kubernetes/mode: must be one of "enforce", "warn", "audit"',
      );
    });

    it('refuses malformed YAML with its position', () => {
      assertInvalid('server: [1, 2', 'not valid YAML');
    });

    it('refuses duplicate keys', () => {
      assertInvalid('server: {port: 1, port: 2}', 'Map keys must be unique');
    });

    it('refuses alias bombs', () => {
      const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 0; i < 12; i++)
        bomb.push(
          `${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10)
            .fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`)
            .join(', ')}]`,
        );
      assertInvalid(bomb.join('\n'), 'not valid YAML');
    });

    it('refuses YAML tags that would construct objects', () => {
      assertInvalid('server: !!js/function "function () {}"', 'not valid YAML');
    });

    it('refuses binary and other non-JSON values', () => {
      assertInvalid('policy:\n  params:\n    x: !!binary aGVsbG8=\n', 'not plain data');
    });

    it('refuses a top level that is not a mapping', () => {
      assertInvalid('- 1\n- 2\n', '(top level): must be object');
    });
  });

  describe('#loadConfig', () => {
    it('names a file it cannot read', () => {
      assert.throws(
        () => loadConfig('/nonexistent/provgate.yaml'),
        (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG_UNREADABLE',
      );
    });
  });
});
