// provgate's command line. Every command returns an exit status; only this
// file touches the process.
import { UsageError, type CommandResult, type Io } from './io.ts';

const USAGE = `usage: provgate <command> [options]

commands:
  serve               start the admission gate (HTTP webhook)
  verify-bundle       verify one Sigstore bundle (sigstore-conformance protocol)
  verify              verify an artifact's attestations and print the verified facts
  verify-artifact     slsa-verifier verify-artifact on provgate's engine
  verify-npm-package  slsa-verifier verify-npm-package on provgate's engine
  attestation verify  gh attestation verify (offline) on provgate's engine
  policy              build, test and evaluate Rego policy bundles

Run 'provgate <command> --help' for a command's options.
Exit status: 0 verified or allowed, 1 failed or denied, 2 usage or configuration error.`;

type Command = (argv: string[], io: Io) => Promise<CommandResult>;

// Each command is loaded when it runs: the CLI does not pay for the server's
// modules to verify one bundle.
const COMMANDS: Record<string, (() => Promise<Command>) | undefined> = {
  serve: async () => (await import('./serve.ts')).serveCommand,
  'verify-bundle': async () => (await import('./verify.ts')).verifyBundleCommand,
  verify: async () => (await import('./verify.ts')).verifyCommand,
  'verify-artifact': async () => (await import('./slsa.ts')).verifyArtifactCommand,
  'verify-npm-package': async () => (await import('./slsa.ts')).verifyNpmPackageCommand,
  attestation: async () => (await import('./gh.ts')).attestationCommand,
  policy: async () => (await import('./policy.ts')).policyCommand,
};

export async function run(argv: string[], io: Io): Promise<CommandResult> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.stderr(`unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.exitCode === 0) io.stdout(err.message);
      else io.stderr(err.message);
      return err.exitCode;
    }
    // Anything unexpected is an error, never a success.
    io.stderr(`error: ${(err as Error).stack ?? String(err)}`);
    return 2;
  }
}

export const processIo: Io = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};
