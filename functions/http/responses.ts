import type { HttpResponseInit } from '@azure/functions';
import { ensureError } from '../../lib/errors';
import { redactSecrets } from '../../lib/redact';
import { ValidationError, type ValidationIssue } from '../../lib/validation';

/**
 * JSON answers of RPO's HTTP API. Errors use ARM's shape, `{ error: { code, message, details? } }`, where
 * `details` lists every bad field as `{ field, rule, message }` (lib/validation).
 */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

export function problem(
  status: number,
  code: string,
  message: string,
  details?: readonly ValidationIssue[],
): HttpResponseInit {
  return json(status, { error: { code, message: redactSecrets(message), ...(details ? { details } : {}) } });
}

export function validationProblem(error: ValidationError): HttpResponseInit {
  return problem(400, 'ValidationFailed', error.message, error.issues);
}

/** Reads a JSON body; a body that is not JSON is a 400 naming the body, never an exception. */
export async function readJson(request: {
  text(): Promise<string>;
}): Promise<{ ok: true; value: unknown } | { ok: false; response: HttpResponseInit }> {
  const text = await request.text();
  if (text.trim() === '') {
    return {
      ok: false,
      response: problem(400, 'ValidationFailed', 'the request body is required: a JSON object', [
        { field: '', rule: 'required', message: 'is required' },
      ]),
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      response: problem(400, 'InvalidJson', `the request body is not JSON: ${ensureError(error).message}`, [
        { field: '', rule: 'json', message: 'is not valid JSON' },
      ]),
    };
  }
}

/** Turns what a handler throws into an answer: bad input is 400, anything else 500 with nothing leaked. */
export function fromError(error: unknown): HttpResponseInit {
  if (error instanceof ValidationError) return validationProblem(error);
  return problem(500, 'InternalError', `RPO could not complete the request: ${ensureError(error).message}`);
}
