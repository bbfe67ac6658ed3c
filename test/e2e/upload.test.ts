// The upload hook end to end, called the way a repository manager calls it:
// multipart/form-data with the package file and its provenance file, a bearer
// token from a tokens file (a mounted Secret), the real `provgate serve` with
// the default policy and embedded trust, and the real npm packages of
// test/fixtures/npm-attestations (SOURCES.md): the valid ones allowed, the
// tampered ones (*-invalidsigprov, *-invalidsigpub) denied naming the
// signature failure.
//
// The commands for the README, with a token, run verbatim below by curl from
// the repository root (the URL replaced by the test server's):
//
//   curl -sS -H "Authorization: Bearer $TOKEN" -F artifact=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag.tgz -F provenance=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag.tgz.json http://127.0.0.1:8080/v1/upload
//   curl -sS -H "Authorization: Bearer $TOKEN" -F artifact=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigprov.tgz -F provenance=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigprov.tgz.json http://127.0.0.1:8080/v1/upload
//   curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" -F artifact=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigpub.tgz -F provenance=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigpub.tgz.json http://127.0.0.1:8080/v1/upload
//
// The first prints {"allowed":true,...}; the second {"allowed":false,"reasons":
// ["attestation ... failed verification: SIGNATURE_INVALID: ...", ...]}. The
// third is for `statusStyle: http`, where a denial is a 403 and curl exits 22.
// The upload commands README.md shows today (no token: the quick start's
// unauthenticated hook) are read from it and run against a server without
// tokens.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  FIXTURES,
  ROOT,
  json,
  postJson,
  startProvgate,
  tempDir,
  writeConfig,
  type Provgate,
} from './support/serve.ts';
import { servedSchemas, type SchemaCheck } from './support/openapi.ts';

interface Decision {
  allowed: boolean;
  decisionId: string;
  reasons: string[];
  warnings: string[];
  attestations: {
    source: string;
    verified: boolean;
    predicateType?: string;
    error?: { code: string; message: string };
  }[];
}

const PACKAGES = join(FIXTURES, 'npm-attestations');
/** The passing packages of test/fixtures/SOURCES.md. */
const PASSING = [
  'supreme-googles-cli-v02-tag',
  'gundam-visor-cli-v1-tag',
  'provenance-npm-test-cli-v02-prega',
  'provenance-npm-test-cli-v1-prega',
  'provenance-npm-test-ossf',
];
/** Each passing package with its provenance or its publish attestation signature tampered. */
const TAMPERED = PASSING.flatMap((p) => [`${p}-invalidsigprov`, `${p}-invalidsigpub`]);
const README_URL = 'http://127.0.0.1:8080';
const README_COMMANDS = {
  allowed:
    'curl -sS -H "Authorization: Bearer $TOKEN" -F artifact=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag.tgz -F provenance=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag.tgz.json http://127.0.0.1:8080/v1/upload',
  denied:
    'curl -sS -H "Authorization: Bearer $TOKEN" -F artifact=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigprov.tgz -F provenance=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigprov.tgz.json http://127.0.0.1:8080/v1/upload',
  failWithBody:
    'curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" -F artifact=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigpub.tgz -F provenance=@test/fixtures/npm-attestations/gundam-visor-cli-v1-tag-invalidsigpub.tgz.json http://127.0.0.1:8080/v1/upload',
};

const TOKEN = randomBytes(24).toString('base64url');
let work: ReturnType<typeof tempDir>;
let tokensFile: string;
/** statusStyle: decision (the default): always 200 with allowed true/false. */
let decisionStyle: Provgate;
/** statusStyle: http: 200 allowed, 403 denied. */
let httpStyle: Provgate;
/** No configuration file: the quick start's unauthenticated upload hook. */
let open: Provgate;
/** Responses are checked against the server's own /openapi.json. */
let schema: SchemaCheck;

/** The `curl ... /v1/upload` commands of README.md's sh blocks, continuation lines joined. */
function readmeUploadCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const commands: string[] = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1]!.replace(/\\\n\s*/g, ' ').split('\n');
    commands.push(...lines.filter((l) => /^curl .*\/v1\/upload$/.test(l.trim())));
  }
  return commands;
}

before(async () => {
  work = tempDir('upload');
  tokensFile = join(work.dir, 'upload-tokens');
  writeFileSync(tokensFile, `# one token per line\n${TOKEN}\n`);
  // The decision-style server verifies on two worker threads, so every package
  // below is also proven through the verification pool.
  const config = (statusStyle: string) => ({
    endpoints: { upload: { tokensFile, statusStyle } },
    ...(statusStyle === 'decision' ? { verification: { workers: 2 } } : {}),
  });
  [decisionStyle, httpStyle, open] = await Promise.all([
    startProvgate({ config: writeConfig(work.dir, config('decision'), 'decision.yaml') }),
    startProvgate({ config: writeConfig(work.dir, config('http'), 'http.yaml') }),
    startProvgate(),
  ]);
  schema = await servedSchemas(open.url);
});

after(async () => {
  await Promise.all([decisionStyle?.stop(), httpStyle?.stop(), open?.stop()]);
  work?.remove();
});

/** POST /v1/upload as multipart: `artifact` = <pkg>.tgz, `provenance` = <pkg>.tgz.json. */
async function upload(
  server: Provgate,
  pkg: string,
  token: string | null = TOKEN,
): Promise<{ status: number; body: Decision & { error?: { code: string } } }> {
  const form = new FormData();
  form.append('artifact', new Blob([readFileSync(join(PACKAGES, `${pkg}.tgz`))]), `${pkg}.tgz`);
  form.append(
    'provenance',
    new Blob([readFileSync(join(PACKAGES, `${pkg}.tgz.json`))], { type: 'application/json' }),
    `${pkg}.tgz.json`,
  );
  const res = await fetch(`${server.url}/v1/upload`, {
    method: 'POST',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = await json<Decision & { error?: { code: string } }>(res);
  schema(res.status === 200 || res.status === 403 ? 'Decision' : 'Error', body);
  return { status: res.status, body };
}

/** Runs a shell command line with TOKEN set, in the repository root. */
function sh(
  command: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', command],
      { cwd: ROOT, env: { ...process.env, TOKEN, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function assertSignatureDenial(pkg: string, d: Decision): void {
  assert.equal(d.allowed, false, JSON.stringify(d));
  // invalidsigprov: the SLSA provenance (attestations[1]); invalidsigpub: the publish attestation ([0]).
  const failed = d.attestations.filter((a) => !a.verified);
  assert.equal(failed.length, 1, JSON.stringify(d.attestations));
  assert.equal(failed[0]!.error?.code, 'SIGNATURE_INVALID');
  assert.equal(failed[0]!.source, `${pkg}.tgz.json attestations[${pkg.endsWith('prov') ? 1 : 0}]`);
  assert.ok(
    d.reasons.some(
      (r) => r.includes(`${pkg}.tgz.json`) && r.includes('failed verification: SIGNATURE_INVALID'),
    ),
    JSON.stringify(d.reasons),
  );
}

describe('provgate serve: the upload hook (POST /v1/upload)', () => {
  describe('multipart with the package and its provenance, statusStyle decision', () => {
    for (const pkg of PASSING) {
      it(`allows ${pkg}, with the any-source warning`, async () => {
        const { status, body } = await upload(decisionStyle, pkg);
        assert.equal(status, 200);
        assert.deepEqual(body.reasons, []);
        assert.equal(body.allowed, true);
        assert.ok(body.warnings.some((w) => w.startsWith('accepting any source repository')));
        assert.ok(body.attestations.every((a) => a.verified));
      });
    }
    for (const pkg of TAMPERED) {
      it(`denies ${pkg} with 200, naming the signature failure`, async () => {
        const { status, body } = await upload(decisionStyle, pkg);
        assert.equal(status, 200);
        assertSignatureDenial(pkg, body);
      });
    }
  });

  describe('statusStyle http', () => {
    it('answers 200 for every passing package', async () => {
      for (const pkg of PASSING) {
        const { status, body } = await upload(httpStyle, pkg);
        assert.equal(status, 200, `${pkg}: ${JSON.stringify(body)}`);
        assert.equal(body.allowed, true);
      }
    });

    it('answers 403 with the decision for every tampered package', async () => {
      for (const pkg of TAMPERED) {
        const { status, body } = await upload(httpStyle, pkg);
        assert.equal(status, 403, pkg);
        assertSignatureDenial(pkg, body);
      }
    });
  });

  describe('authentication', () => {
    it('answers 401 UNAUTHENTICATED for a wrong token', async () => {
      const { status, body } = await upload(decisionStyle, PASSING[0]!, 'not-the-token-at-all');
      assert.equal(status, 401);
      assert.equal(body.error?.code, 'UNAUTHENTICATED');
    });

    it('answers 401 UNAUTHENTICATED without a token, in either status style', async () => {
      for (const server of [decisionStyle, httpStyle]) {
        const { status, body } = await upload(server, PASSING[0]!, null);
        assert.equal(status, 401);
        assert.equal(body.error?.code, 'UNAUTHENTICATED');
      }
    });

    it('accepts a token added to the tokens file, without a restart', async () => {
      const added = randomBytes(24).toString('base64url');
      assert.equal((await upload(decisionStyle, PASSING[0]!, added)).status, 401);
      appendFileSync(tokensFile, `${added}\n`);
      const deadline = Date.now() + 5000;
      let status = 401;
      while (status === 401 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        ({ status } = await upload(decisionStyle, PASSING[0]!, added));
      }
      assert.equal(status, 200);
      assert.equal((await upload(decisionStyle, PASSING[0]!, TOKEN)).status, 200);
    });

    it('does not log the token', () => {
      for (const server of [decisionStyle, httpStyle])
        assert.ok(!server.logs.some((l) => JSON.stringify(l).includes(TOKEN)));
    });
  });

  describe('the JSON form', () => {
    it('decides on {artifact, attestations} like /v1/admit', async () => {
      const pkg = 'provenance-npm-test-ossf';
      const tgz = readFileSync(join(PACKAGES, `${pkg}.tgz`));
      const { status, body } = await postJson<Decision>(
        `${httpStyle.url}/v1/upload`,
        {
          artifact: {
            name: pkg,
            digest: { sha512: createHash('sha512').update(tgz).digest('hex') },
          },
          attestations: [JSON.parse(readFileSync(join(PACKAGES, `${pkg}.tgz.json`), 'utf8'))],
        },
        { authorization: `Bearer ${TOKEN}` },
      );
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.allowed, true);
    });
  });

  describe("the README's curl commands", () => {
    it('are the ones in the comment at the top of this file', () => {
      const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
      for (const command of Object.values(README_COMMANDS))
        assert.ok(source.includes(`//   ${command}\n`), command);
    });

    it('allow a valid package', async () => {
      const r = await sh(README_COMMANDS.allowed.replace(README_URL, decisionStyle.url));
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout) as Decision;
      assert.equal(d.allowed, true);
    });

    it('deny a package whose provenance signature was tampered, saying why', async () => {
      const r = await sh(README_COMMANDS.denied.replace(README_URL, decisionStyle.url));
      assert.equal(r.code, 0, r.stderr);
      assertSignatureDenial(
        'gundam-visor-cli-v1-tag-invalidsigprov',
        JSON.parse(r.stdout) as Decision,
      );
    });

    it('exit 22 on a 403 with --fail-with-body under statusStyle http, printing the decision', async () => {
      const r = await sh(README_COMMANDS.failWithBody.replace(README_URL, httpStyle.url));
      assert.equal(r.code, 22, r.stderr);
      assert.match(r.stderr, /403/);
      assertSignatureDenial(
        'gundam-visor-cli-v1-tag-invalidsigpub',
        JSON.parse(r.stdout) as Decision,
      );
    });

    it('as README.md shows them today: the valid package allowed, the tampered one denied', async () => {
      const commands = readmeUploadCommands();
      assert.ok(commands.length >= 2, `README.md shows upload commands: ${commands.join('\n')}`);
      for (const command of commands) {
        const r = await sh(command.replace(README_URL, open.url));
        assert.equal(r.code, 0, `${command}: ${r.stderr}`);
        const d = JSON.parse(r.stdout) as Decision;
        const pkg = /npm-attestations\/([^ ]+)\.tgz /.exec(command)?.[1] ?? '';
        if (PASSING.includes(pkg)) assert.equal(d.allowed, true, `${command}: ${r.stdout}`);
        else assertSignatureDenial(pkg, d);
      }
    });

    it('exit 0 under statusStyle http for the valid package', async () => {
      const allowed = README_COMMANDS.allowed.replace('curl -sS', 'curl -sS --fail-with-body');
      const r = await sh(allowed.replace(README_URL, httpStyle.url));
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as Decision).allowed, true);
    });
  });
});
