import type { ArtifactRef, AttestationDiscovery, DiscoveredAttestation } from './discover.types.ts';

/**
 * Asks each discovery in turn and stops at the first that finds anything (a
 * local store in front of the registry). A failure is reported only when no
 * later discovery finds attestations.
 */
export function firstFound(discoveries: AttestationDiscovery[]): AttestationDiscovery {
  return {
    name: discoveries.map((d) => d.name).join(' then '),
    async discover(artifact: ArtifactRef, signal: AbortSignal): Promise<DiscoveredAttestation[]> {
      let failure: Error | undefined;
      for (const d of discoveries) {
        try {
          const found = await d.discover(artifact, signal);
          if (found.length > 0) return found;
        } catch (err) {
          signal.throwIfAborted();
          failure = err instanceof Error ? err : new Error(String(err));
        }
      }
      if (failure !== undefined) throw failure;
      return [];
    },
  };
}
