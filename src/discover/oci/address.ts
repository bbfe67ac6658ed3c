// Which network addresses discovery may connect to. A registry name is
// attacker-chosen (it comes from the image reference in a Pod spec), and so
// are redirects and token realms, so every connection is checked twice: the
// literal host before connecting and every address DNS returns for a name
// (a name can resolve to the metadata service; checking at connect time also
// stops DNS rebinding between a check and the connection).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { DiscoveryError } from '../error.ts';

// Link-local ranges hold cloud instance metadata (169.254.169.254 on AWS, GCP,
// Azure, OCI; fd00:ec2::254 is AWS's IPv6 endpoint; 100.100.100.200 Alibaba's).
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addAddress('100.100.100.200', 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');
FORBIDDEN.addAddress('::', 'ipv6');
const FORBIDDEN_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog']);

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** `host:port` or `[v6]:port` -> the host without brackets, lower-cased. */
export function hostnameOf(authority: string): string {
  const host = authority.startsWith('[')
    ? authority.slice(1, authority.indexOf(']'))
    : authority.replace(/:[0-9]*$/, '');
  return host.toLowerCase();
}

/** Why connecting to this IP address is refused, or undefined when it is allowed. */
export function forbiddenAddress(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return undefined;
  // BlockList matches IPv4-mapped IPv6 (::ffff:169.254.169.254, ::ffff:a9fe:a9fe) against the IPv4 rules.
  return FORBIDDEN.check(ip, family === 4 ? 'ipv4' : 'ipv6')
    ? `${ip} is a link-local or cloud metadata address`
    : undefined;
}

export function isLoopbackAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  return LOOPBACK.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** A loopback name or literal: `localhost`, 127.0.0.0/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || isLoopbackAddress(hostname);
}

/** Refuses a host before any connection: forbidden names and forbidden literal addresses. */
export function assertHostAllowed(hostname: string, what: string): void {
  const why = FORBIDDEN_NAMES.has(hostname.replace(/\.$/, ''))
    ? `${hostname} is a cloud metadata host`
    : forbiddenAddress(hostname);
  if (why !== undefined) {
    throw new DiscoveryError('ADDRESS_NOT_ALLOWED', `${what} refused: ${why}`);
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.Agent that resolves as usual and then refuses forbidden
 * addresses (and, for plain-HTTP registries, anything that is not loopback).
 */
export function guardedLookup(loopbackOnly: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err !== null) {
        callback(err, []);
        return;
      }
      for (const { address } of addresses) {
        const why =
          forbiddenAddress(address) ??
          (loopbackOnly && !isLoopbackAddress(address)
            ? `${address} is not a loopback address, and plain HTTP is only used on loopback`
            : undefined);
        if (why !== undefined) {
          callback(
            new DiscoveryError('ADDRESS_NOT_ALLOWED', `connection to ${hostname} refused: ${why}`),
            [],
          );
          return;
        }
      }
      if (options.all === true) {
        callback(null, addresses);
        return;
      }
      const first = addresses[0];
      if (first === undefined) {
        callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
        return;
      }
      callback(null, first.address, first.family);
    });
  };
}
