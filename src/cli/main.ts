// provgate's command line. Every command returns an exit status; only this
// file touches the process.
import { UsageError, type CommandResult, type Io } from './io.ts';
import { ATTESTATION_VERIFY_USAGE, attestationCommand } from './gh.ts';
import { POLICY_USAGE, policyCommand } from './policy.ts';
import { SERVE_USAGE, serveCommand } from './serve.ts';
import {
  VERIFY_ARTIFACT_USAGE,
  VERIFY_NPM_USAGE,
  verifyArtifactCommand,
  verifyNpmPackageCommand,
} from './slsa.ts';
import { VERIFY_BUNDLE_USAGE, VERIFY_USAGE, verifyBundleCommand, verifyCommand } from './verify.ts';

const USAGE = `usage: provgate <command> [options]

commands:
  serve           start the admission gate (HTTP webhook)
  verify-bundle   verify one Sigstore bundle (sigstore-conformance protocol)
  verify          verify an artifact's attestations and print the verified facts
  verify-artifact slsa-verifier verify-artifact on provgate's engine
  verify-npm-package
                  slsa-verifier verify-npm-package on provgate's engine
  attestation verify
                  gh attestation verify (offline) on provgate's engine
  policy          build, test and evaluate Rego policy bundles

Run 'provgate <command> --help' for a command's options.

${SERVE_USAGE}

${VERIFY_BUNDLE_USAGE}

${VERIFY_USAGE}

${VERIFY_ARTIFACT_USAGE}

${VERIFY_NPM_USAGE}

${ATTESTATION_VERIFY_USAGE}

${POLICY_USAGE}`;

type Command = (argv: string[], io: Io) => Promise<CommandResult>;

const COMMANDS: Record<string, Command | undefined> = {
  serve: serveCommand,
  'verify-bundle': verifyBundleCommand,
  verify: verifyCommand,
  'verify-artifact': verifyArtifactCommand,
  'verify-npm-package': verifyNpmPackageCommand,
  attestation: attestationCommand,
  policy: policyCommand,
};

export async function run(argv: string[], io: Io): Promise<CommandResult> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(`unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  try {
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
