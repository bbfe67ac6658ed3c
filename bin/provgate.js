#!/usr/bin/env node
// provgate runs its TypeScript sources directly on Node >= 22.22 (type stripping).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `provgate needs Node.js >= 22.22 (this is ${process.version}). ` +
      'Run it through npm (npm start, npx provgate), which uses the Node 24 pinned in package.json.\n',
  );
  process.exit(2);
}
const { run, processIo } = await import('../src/cli/main.ts');
process.exitCode = await run(process.argv.slice(2), processIo);
