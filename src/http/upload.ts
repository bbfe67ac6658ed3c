// The package repository's upload hook: the same JSON as /v1/admit, or
// multipart/form-data with the artifact file and its provenance file(s). The
// artifact is streamed and hashed on the fly, never held in memory whole.
import { createHash, timingSafeEqual } from 'node:crypto';
import busboy from 'busboy';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Config, Mode } from '../config/index.ts';
import type { Decision, GateRequest } from '../gate/index.ts';
import type { RenderedDecision } from './app.ts';
import { asObject, parseJsonBody, parseContext, type BodyLimits } from './body.ts';
import { HttpError } from './errors.ts';

export type Decide = (
  route: string,
  mode: Mode,
  request: GateRequest,
  refused?: string[],
) => Promise<{ decision: Decision; rendered: RenderedDecision }>;

export interface UploadDeps {
  config: Config;
  decide: Decide;
  limits: BodyLimits;
  tokens: () => string[];
  rawJson: RequestHandler;
  admitRequest: (body: Record<string, unknown>, config: Config) => GateRequest;
}

export function uploadRoute(deps: UploadDeps): Router {
  const { config } = deps;
  const router = Router();
  router.post('/v1/upload', async (req, res, next) => {
    const ep = config.endpoints.upload;
    if (!ep.enabled) throw new HttpError('ENDPOINT_DISABLED', 'the upload endpoint is disabled');
    authenticate(req, deps.tokens(), ep.requireClientCertificate);
    const type = req.headers['content-type'] ?? '';
    let request: GateRequest;
    if (/^multipart\/form-data/i.test(type)) {
      request = await multipartRequest(req, config);
    } else if (/^application\/json/i.test(type)) {
      await new Promise<void>((resolve, reject) =>
        deps.rawJson(req, res, (err?: unknown) => {
          if (err === undefined) resolve();
          else
            reject(
              err instanceof Error
                ? err
                : new HttpError('REQUEST_INVALID', 'unreadable request body'),
            );
        }),
      );
      const body = asObject(parseJsonBody(req.body, deps.limits), 'the request body');
      request = { ...deps.admitRequest(body, config), kind: 'upload' };
    } else {
      throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or multipart/form-data');
    }
    const { rendered } = await deps.decide('upload', ep.mode, request);
    respond(res, rendered, ep.statusStyle);
    void next;
  });
  return router;
}

function respond(res: Response, rendered: RenderedDecision, style: 'decision' | 'http'): void {
  res.status(style === 'http' && !rendered.allowed ? 403 : 200).json(rendered);
}

// Bearer tokens compared in constant time (each against every configured
// token, so timing does not reveal which one matched or how far).
function authenticate(req: Request, tokens: string[], requireClientCertificate: boolean): void {
  if (requireClientCertificate) {
    const socket = req.socket as { authorized?: boolean };
    if (socket.authorized !== true) {
      throw new HttpError(
        'UNAUTHENTICATED',
        'a client certificate signed by the configured CA is required',
      );
    }
  }
  if (tokens.length === 0) return;
  const header = req.headers.authorization ?? '';
  const m = /^Bearer ([^\s]+)$/.exec(header);
  if (m === null) throw new HttpError('UNAUTHENTICATED', 'a bearer token is required');
  const given = createHash('sha256').update(m[1]!).digest();
  let ok = false;
  for (const t of tokens) {
    const expected = createHash('sha256').update(t).digest();
    ok = timingSafeEqual(given, expected) || ok;
  }
  if (!ok) throw new HttpError('UNAUTHENTICATED', 'the bearer token is not accepted');
}

interface Parts {
  artifact?: { filename: string; size: number; sha256: string; sha512: string };
  attestations: { source: string; bytes: Buffer }[];
  fields: Record<string, string>;
}

/**
 * multipart/form-data: `artifact` (the file, streamed and hashed), any number of
 * `provenance` / `attestations` files (each bounded by the body limit), and
 * optional `name`, `version` and `context` (JSON) fields.
 */
function multipartRequest(req: Request, config: Config): Promise<GateRequest> {
  return new Promise<GateRequest>((resolve, reject) => {
    const parts: Parts = { attestations: [], fields: {} };
    let failed = false;
    const fail = (err: HttpError) => {
      if (failed) return;
      failed = true;
      req.unpipe();
      req.resume();
      reject(err);
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: {
          files: config.limits.attestationsPerRequest + 1,
          fields: 16,
          fieldSize: config.limits.bodyBytes,
          parts: config.limits.attestationsPerRequest + 20,
          fileSize: Math.max(config.limits.uploadBytes, config.limits.bodyBytes),
        },
      });
    } catch (err) {
      reject(
        new HttpError(
          'UPLOAD_INVALID',
          `malformed multipart request: ${(err as Error).message}`,
          err,
        ),
      );
      return;
    }
    const pending: Promise<void>[] = [];
    bb.on('file', (field, stream, info) => {
      if (field === 'artifact') {
        if (parts.artifact !== undefined) {
          stream.resume();
          fail(new HttpError('UPLOAD_INVALID', 'only one artifact file may be sent'));
          return;
        }
        const sha256 = createHash('sha256');
        const sha512 = createHash('sha512');
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          sha256.update(chunk);
          sha512.update(chunk);
        });
        stream.on('limit', () =>
          fail(
            new HttpError(
              'UPLOAD_TOO_LARGE',
              `the artifact is larger than ${config.limits.uploadBytes} bytes`,
            ),
          ),
        );
        pending.push(
          new Promise((done) =>
            stream.on('end', () => {
              if (size > config.limits.uploadBytes) {
                fail(
                  new HttpError(
                    'UPLOAD_TOO_LARGE',
                    `the artifact is larger than ${config.limits.uploadBytes} bytes`,
                  ),
                );
              }
              parts.artifact = {
                filename: info.filename ?? 'artifact',
                size,
                sha256: sha256.digest('hex'),
                sha512: sha512.digest('hex'),
              };
              done();
            }),
          ),
        );
        return;
      }
      if (field === 'provenance' || field === 'attestations' || field === 'attestation') {
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > config.limits.bodyBytes) {
            fail(
              new HttpError(
                'UPLOAD_TOO_LARGE',
                `attestation file ${info.filename} is larger than ${config.limits.bodyBytes} bytes`,
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        pending.push(
          new Promise((done) =>
            stream.on('end', () => {
              parts.attestations.push({
                source: info.filename || `${field}[${parts.attestations.length}]`,
                bytes: Buffer.concat(chunks),
              });
              done();
            }),
          ),
        );
        return;
      }
      stream.resume();
      fail(
        new HttpError(
          'UPLOAD_INVALID',
          `unexpected file field ${JSON.stringify(field)} (artifact, provenance, attestations)`,
        ),
      );
    });
    bb.on('field', (name, value) => {
      parts.fields[name] = value;
    });
    bb.on('filesLimit', () => fail(new HttpError('UPLOAD_INVALID', 'too many files')));
    bb.on('partsLimit', () => fail(new HttpError('UPLOAD_INVALID', 'too many parts')));
    bb.on('fieldsLimit', () => fail(new HttpError('UPLOAD_INVALID', 'too many fields')));
    bb.on('error', (err: Error) =>
      fail(new HttpError('UPLOAD_INVALID', `malformed multipart request: ${err.message}`, err)),
    );
    bb.on('close', () => {
      void Promise.all(pending).then(() => {
        if (failed) return;
        if (parts.artifact === undefined) {
          fail(new HttpError('UPLOAD_INVALID', 'the multipart request has no artifact file'));
          return;
        }
        if (parts.attestations.length === 0) {
          fail(
            new HttpError(
              'UPLOAD_INVALID',
              'the multipart request has no provenance or attestations file',
            ),
          );
          return;
        }
        let context: Record<string, unknown> = {};
        if (parts.fields.context !== undefined) {
          try {
            context = parseContext(JSON.parse(parts.fields.context));
          } catch (err) {
            fail(
              err instanceof HttpError
                ? err
                : new HttpError('UPLOAD_INVALID', 'the context field must be a JSON object'),
            );
            return;
          }
        }
        const a = parts.artifact;
        resolve({
          kind: 'upload',
          context: { ...context, filename: a.filename, size: a.size },
          artifacts: [
            {
              artifact: {
                name: parts.fields.name ?? a.filename,
                ...(parts.fields.version === undefined ? {} : { version: parts.fields.version }),
                digests: { sha256: a.sha256, sha512: a.sha512 },
              },
              attestations: parts.attestations,
              discover: false,
            },
          ],
        });
      });
    });
    req.pipe(bb);
  });
}
