// The Dockerfile, checked without a Docker engine: what it pulls (pinned by
// digest), who the process runs as, that no dev dependency reaches the image,
// and that everything it copies and runs exists in the repository and survives
// .dockerignore.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Instruction {
  keyword: string;
  args: string;
  /** Comments directly above the instruction. */
  comments: string[];
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (continuations joined, comments kept). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let comments: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && /^\s*#/.test(line)) {
      comments.push(line.replace(/^\s*#\s?/, ''));
      continue;
    }
    if (pending === '' && line.trim() === '') {
      continue;
    }
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const m = /^(\w+)\s+(.*)$/s.exec(full);
    assert.ok(m !== null, `cannot parse Dockerfile line: ${full}`);
    const keyword = (m[1] as string).toUpperCase();
    const args = (m[2] as string).replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(from !== null, `cannot parse FROM ${args}`);
      stages.push({
        image: from[1] as string,
        ...(from[2] === undefined ? {} : { name: from[2] }),
        instructions: [{ keyword, args, comments }],
      });
    } else {
      const stage = stages.at(-1);
      assert.ok(stage !== undefined, `${keyword} before the first FROM`);
      stage.instructions.push({ keyword, args, comments });
    }
    comments = [];
  }
  return stages;
}

/** COPY's flags and paths: sources relative to the context (or the --from stage), then the destination. */
function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(' ');
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() as string;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  const dest = words.pop();
  assert.ok(dest !== undefined && words.length > 0, `COPY ${args} has no source`);
  return { ...(from === undefined ? {} : { from }), sources: words, dest };
}

function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** Docker's .dockerignore semantics: Go filepath.Match plus `**`; a path is out when the last pattern matching it or a parent directory is not negated. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (path: string) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.re.test(c))) excluded = !rule.negate;
    }
    return excluded;
  };
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else {
        re += '.*';
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => filesUnder(join(path, name)));
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1) as Stage;
const isIgnored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  type: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('Dockerfile', () => {
  describe('base images', () => {
    it('builds in more than one stage and runs on a slim Node 24 image', () => {
      assert.ok(stages.length >= 2, 'multi-stage');
      assert.match(final.image, /^(docker\.io\/(library\/)?)?node:24[.\d]*-[a-z]+-slim@/);
      const build = stages.find((s) => s.name === 'build');
      assert.match(build?.image ?? '', /^(docker\.io\/(library\/)?)?node:24[.\d]*-[a-z]+@/);
    });

    it('pins every external base image by sha256 digest, saying where the digest came from', () => {
      const names = new Set(stages.map((s) => s.name).filter((n) => n !== undefined));
      for (const stage of stages) {
        if (names.has(stage.image)) continue;
        assert.match(stage.image, /^[\w.\-/:]+@sha256:[0-9a-f]{64}$/, `FROM ${stage.image}`);
      }
      assert.match(dockerfile, /docker-library\/repo-info/, 'the digests name their source');
      assert.match(dockerfile, /commit [0-9a-f]{40}/, 'and the exact record');
      assert.match(dockerfile, /[Rr]efresh them deliberately/);
    });
  });

  describe('the final stage', () => {
    it('runs as a numeric non-root user', () => {
      const users = instructions(final, 'USER');
      assert.ok(users.length > 0, 'USER is set');
      const user = (users.at(-1) as Instruction).args;
      const m = /^(\d+)(?::(\d+))?$/.exec(user);
      assert.ok(m !== null, `USER ${user} is numeric (runAsNonRoot checks it without /etc/passwd)`);
      assert.notEqual(Number(m[1]), 0, 'not root');
      if (m[2] !== undefined) assert.notEqual(Number(m[2]), 0, 'not the root group');
    });

    it('installs nothing itself and copies node_modules from a stage that omitted dev dependencies', () => {
      for (const run of instructions(final, 'RUN')) {
        assert.doesNotMatch(run.args, /\b(npm|yarn|pnpm)\b/, `RUN ${run.args}`);
      }
      const modules = instructions(final, 'COPY')
        .map((c) => parseCopy(c.args))
        .filter((c) => c.sources.some((s) => s.includes('node_modules')));
      assert.equal(modules.length, 1, 'node_modules is copied once');
      const from = stages.find((s) => s.name === modules[0]?.from);
      assert.ok(from !== undefined, 'node_modules comes from a named build stage');
      const installs = instructions(from, 'RUN').filter((r) =>
        /\b(npm|yarn|pnpm)\s+(ci|install|i|add)\b/.test(r.args),
      );
      assert.ok(installs.length > 0, 'the build stage installs dependencies');
      for (const r of installs) {
        assert.match(r.args, /\bnpm ci\b/, `lockfile install: ${r.args}`);
        assert.match(r.args, /--omit=dev\b/, `production dependencies only: ${r.args}`);
      }
    });

    it('copies no development material: tests, benchmarks, tools, lint and type configuration', () => {
      const copied = [...instructions(final, 'COPY'), ...instructions(final, 'ADD')].flatMap(
        (c) => parseCopy(c.args).sources,
      );
      for (const source of copied) {
        assert.doesNotMatch(
          source,
          /(^|\/)(test|bench|scripts|\.tools|\.git|charts|docs)(\/|$)/,
          source,
        );
        assert.doesNotMatch(source, /tsconfig|eslint|prettier/, source);
      }
    });

    it('starts `provgate serve` on 0.0.0.0 with the image node, from a file in the repository', () => {
      const entrypoint = JSON.parse(
        (instructions(final, 'ENTRYPOINT').at(-1) as Instruction).args,
      ) as string[];
      const cmd = JSON.parse((instructions(final, 'CMD').at(-1) as Instruction).args) as string[];
      assert.equal(entrypoint[0], 'node', 'exec form, node itself receives SIGTERM');
      const script = entrypoint[1] as string;
      const workdir = (instructions(final, 'WORKDIR').at(-1) as Instruction).args;
      assert.ok(script.startsWith(`${workdir}/`), `${script} is under WORKDIR ${workdir}`);
      const inRepo = script.slice(workdir.length + 1);
      assert.ok(existsSync(join(ROOT, inRepo)), `${inRepo} exists in the repository`);
      assert.deepEqual(cmd.slice(0, 1), ['serve']);
      assert.equal(cmd[cmd.indexOf('--host') + 1], '0.0.0.0');
    });

    it('carries the OCI image labels', () => {
      const labels = instructions(final, 'LABEL')
        .map((l) => l.args)
        .join(' ');
      for (const key of [
        'title',
        'description',
        'version',
        'revision',
        'created',
        'licenses',
        'base.name',
        'base.digest',
      ]) {
        assert.match(
          labels,
          new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}=`),
          key,
        );
      }
      const baseDigest = /org\.opencontainers\.image\.base\.digest="(sha256:[0-9a-f]{64})"/.exec(
        labels,
      )?.[1];
      assert.ok(final.image.endsWith(`@${baseDigest}`), 'base.digest is the pinned base');
    });
  });

  describe('what the image holds', () => {
    const build = stages.find((s) => s.name === 'build') as Stage;
    const contextCopies = stages.flatMap((s) =>
      instructions(s, 'COPY')
        .map((c) => parseCopy(c.args))
        .filter((c) => c.from === undefined),
    );

    it('copies only paths that exist in the repository and that .dockerignore lets through', () => {
      assert.ok(contextCopies.length > 0);
      for (const copy of contextCopies) {
        for (const source of copy.sources) {
          const path = join(ROOT, source);
          assert.ok(existsSync(path), `${source} exists`);
          for (const file of filesUnder(path)) {
            const rel = relative(ROOT, file);
            assert.ok(!isIgnored(rel), `${rel} is sent to the builder`);
          }
        }
      }
    });

    it('holds the entrypoint, the default policy bundle and the embedded trust root', () => {
      const copied = contextCopies.flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));
      const inImage = (file: string) => copied.some((s) => file === s || file.startsWith(`${s}/`));
      for (const file of [
        'package.json',
        'bin/provgate.js',
        'policies/bundle.tar.gz',
        'src/trust/embedded/public-good.trusted_root.json',
        'src/trust/embedded/npm-registry-keys.json',
        'src/cli/main.ts',
      ]) {
        assert.ok(existsSync(join(ROOT, file)), `${file} exists in the repository`);
        assert.ok(inImage(file), `${file} is copied into the build stage`);
        assert.ok(!isIgnored(file), `${file} passes .dockerignore`);
      }
      // Everything the final stage takes from the build stage was put there.
      for (const copy of instructions(final, 'COPY').map((c) => parseCopy(c.args))) {
        if (copy.from !== build.name) continue;
        for (const source of copy.sources) {
          const rel = source.replace(/^\/app\//, '').replace(/\/$/, '');
          assert.ok(
            rel === 'node_modules' || inImage(rel) || copied.some((s) => s.startsWith(`${rel}/`)),
            `${source} exists in the build stage`,
          );
        }
      }
    });

    it('holds every file outside src/ that the sources open relative to themselves', () => {
      // `provgate policy build|test` run scripts/policy.sh with a Go-built OPA:
      // authoring tools the image does not offer.
      const notShipped = new Set(['scripts/policy.sh']);
      const copied = contextCopies.flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));
      const referenced: string[] = [];
      for (const file of filesUnder(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/new URL\(\s*'([^']+)',\s*import\.meta\.url\s*\)/g)) {
          const target = relative(ROOT, join(dirname(file), m[1] as string));
          if (target.startsWith('src/') || notShipped.has(target)) continue;
          referenced.push(target);
          assert.ok(
            copied.some((s) => target === s || target.startsWith(`${s}/`)),
            `${relative(ROOT, file)} opens ${target}, which the image does not hold`,
          );
        }
      }
      assert.ok(
        referenced.includes('policies/bundle.tar.gz'),
        'the default policy bundle is found',
      );
    });

    it('keeps secrets, tools and dev material out of the build context', () => {
      for (const path of [
        '.git/config',
        'node_modules/typescript/package.json',
        '.tools/bin/helm',
        'test/chart/chart.test.ts',
        '.env',
        'src/.env',
        'charts/provgate/values.yaml',
      ]) {
        assert.ok(isIgnored(path), `${path} is ignored`);
      }
    });

    it('needs only production dependencies at run time: every package src/ imports is in dependencies', () => {
      assert.equal(pkg.type, 'module', 'package.json (copied) makes bin/provgate.js an ES module');
      const builtins = new Set(builtinModules);
      const missing: string[] = [];
      const seen = new Set<string>();
      for (const file of filesUnder(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'))) {
        const text = readFileSync(file, 'utf8');
        // Runtime imports only: `import type` and `export type` vanish with type stripping.
        for (const m of text.matchAll(
          /^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^'.][^']*)'|^\s*import\s+'([^'.][^']*)'|import\(\s*'([^'.][^']*)'\s*\)/gm,
        )) {
          const spec = (m[1] ?? m[2] ?? m[3]) as string;
          if (spec.startsWith('node:') || builtins.has(spec)) continue;
          const name = spec.startsWith('@')
            ? spec.split('/').slice(0, 2).join('/')
            : (spec.split('/')[0] as string);
          seen.add(name);
          if (!(name in pkg.dependencies)) missing.push(`${relative(ROOT, file)}: ${spec}`);
        }
      }
      assert.deepEqual(missing, []);
      // The scan itself works: it sees the packages the gate is built on.
      for (const name of ['express', 'ajv', 'yaml']) assert.ok(seen.has(name), `sees ${name}`);
    });
  });
});
