import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { StateError, StateErrorCode } from '../errors';

function tooLarge(limit: number): StateError {
  return new StateError(StateErrorCode.TOO_LARGE, `request body is larger than ${limit} bytes`, {
    reason: `body over ${limit} bytes`,
  });
}

function badRequest(message: string, reason: string): StateError {
  return new StateError(StateErrorCode.BAD_REQUEST, message, { reason });
}

/**
 * Reads a request body of at most `limit` bytes. A Content-Length over the limit is refused before
 * reading anything; a chunked body is counted as it streams and refused at the first byte over.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(badRequest(`reading the body failed: ${error.message}`, 'body read failed'));
    };
    const onClose = (): void => {
      cleanup();
      reject(badRequest('the client went away before sending the whole body', 'body incomplete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const YAML_TYPES: ReadonlySet<string> = new Set(['application/yaml', 'application/x-yaml', 'text/yaml']);

/**
 * Parses a YAML (by content type) or JSON body into one object. Any other content type is read as
 * JSON, because tools often send JSON as text/plain or form-encoded (`curl -d`). Throws
 * SY_STATE_BAD_REQUEST (400).
 */
export function parseBody(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty', 'empty body');
  let value: unknown;
  if (YAML_TYPES.has(mediaType)) {
    try {
      value = parseYaml(text) as unknown;
    } catch (error) {
      throw badRequest(`the body is not valid YAML: ${(error as Error).message}`, 'invalid YAML');
    }
  } else {
    try {
      value = JSON.parse(text) as unknown;
    } catch (error) {
      throw badRequest(`the body is not valid JSON: ${(error as Error).message}`, 'invalid JSON');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('the body must be one object', 'not an object');
  }
  return value as Record<string, unknown>;
}
