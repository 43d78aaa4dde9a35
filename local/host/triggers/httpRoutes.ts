/**
 * ASP.NET-style route templates as HTTP triggers use them: literal segments (case-insensitive),
 * `{x}`, optional `{x?}`, constrained `{x:int}` / `{x:int?}` / `{x:regex(^a+$)}`, catch-all `{*rest}`.
 */

type Constraint = (value: string) => boolean;

interface ParamPart {
  kind: 'param';
  name: string;
  constraints: Constraint[];
  optional: boolean;
  catchAll: boolean;
}

type Part = { kind: 'literal'; text: string } | ParamPart;

export interface CompiledRoute {
  template: string;
  /** Matches a path relative to the route prefix (no leading slash), returning decoded parameters. */
  match(relativePath: string): Record<string, string> | undefined;
  /** Lower sorts first: literal segments beat parameters, which beat optional and catch-all ones. */
  precedence: number[];
}

function numberArgs(args: string | undefined, count: number, constraint: string, template: string): number[] {
  const values = (args ?? '').split(',').map((v) => Number(v.trim()));
  if (values.length !== count || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`route "${template}": constraint "${constraint}" needs ${count} number argument(s)`);
  }
  return values;
}

const isNumber = (v: string): boolean => v.trim() !== '' && Number.isFinite(Number(v));

/** ASP.NET's int / long constraints: a decimal integer that fits the signed type. */
function fitsSignedInteger(value: string, bits: 32 | 64): boolean {
  if (!/^-?\d+$/.test(value)) return false;
  const n = BigInt(value);
  const limit = 1n << BigInt(bits - 1);
  return n >= -limit && n < limit;
}

function compileConstraint(text: string, template: string): Constraint {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/s.exec(text);
  if (!m) throw new Error(`route "${template}": constraint "${text}" is not of the form name or name(args)`);
  const name = (m[1] ?? '').toLowerCase();
  const args = m[2];
  switch (name) {
    case 'int':
      return (v) => fitsSignedInteger(v, 32);
    case 'long':
      return (v) => fitsSignedInteger(v, 64);
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'guid':
      return (v) => /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(v);
    case 'double':
    case 'float':
    case 'decimal':
      return isNumber;
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'min': {
      const [min = 0] = numberArgs(args, 1, text, template);
      return (v) => /^-?\d+$/.test(v) && Number(v) >= min;
    }
    case 'max': {
      const [max = 0] = numberArgs(args, 1, text, template);
      return (v) => /^-?\d+$/.test(v) && Number(v) <= max;
    }
    case 'range': {
      const [min = 0, max = 0] = numberArgs(args, 2, text, template);
      return (v) => /^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
    }
    case 'minlength': {
      const [min = 0] = numberArgs(args, 1, text, template);
      return (v) => v.length >= min;
    }
    case 'maxlength': {
      const [max = 0] = numberArgs(args, 1, text, template);
      return (v) => v.length <= max;
    }
    case 'length': {
      const numbers = (args ?? '').split(',').length === 2 ? numberArgs(args, 2, text, template) : undefined;
      const [min = 0, max = 0] = numbers ?? numberArgs(args, 1, text, template).flatMap((n) => [n, n]);
      return (v) => v.length >= min && v.length <= max;
    }
    case 'regex': {
      let regex: RegExp;
      try {
        regex = new RegExp(args ?? '', 'i');
      } catch (error) {
        throw new Error(`route "${template}": constraint "${text}" is not a valid regular expression`, {
          cause: error,
        });
      }
      return (v) => regex.test(v);
    }
    default:
      throw new Error(`route "${template}": unknown route constraint "${name}"`);
  }
}

function parseParam(body: string, template: string): ParamPart {
  let text = body;
  let catchAll = false;
  if (text.startsWith('*')) {
    catchAll = true;
    text = text.replace(/^\*{1,2}/, '');
  }
  let optional = false;
  if (text.endsWith('?')) {
    optional = true;
    text = text.slice(0, -1);
  }
  const [name = '', ...constraintTexts] = splitConstraints(text);
  if (!/^[A-Za-z_][\w]*$/.test(name)) throw new Error(`route "${template}": "{${body}}" has no valid parameter name`);
  return {
    kind: 'param',
    name,
    constraints: constraintTexts.map((c) => compileConstraint(c, template)),
    optional: optional || catchAll,
    catchAll,
  };
}

/** `id:int:min(3)` → ['id', 'int', 'min(3)'], keeping ':' inside parentheses (regexes). */
function splitConstraints(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ':' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseSegment(segment: string, template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < segment.length) {
    const open = segment.indexOf('{', i);
    if (open < 0) {
      parts.push({ kind: 'literal', text: segment.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'literal', text: segment.slice(i, open) });
    let depth = 0;
    let close = -1;
    for (let j = open; j < segment.length; j++) {
      if (segment[j] === '{') depth++;
      else if (segment[j] === '}' && --depth === 0) {
        close = j;
        break;
      }
    }
    if (close < 0) throw new Error(`route "${template}": unbalanced "{" in segment "${segment}"`);
    parts.push(parseParam(segment.slice(open + 1, close), template));
    i = close + 1;
  }
  return parts;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function compileRoute(template: string): CompiledRoute {
  const cleaned = template.replace(/^[~/]+|\/+$/g, '');
  const segments = cleaned === '' ? [] : cleaned.split('/');
  const params: ParamPart[] = [];
  const precedence: number[] = [];
  let source = '^';
  segments.forEach((segment, index) => {
    const parts = parseSegment(segment, template);
    const only = parts.length === 1 ? parts[0] : undefined;
    const lead = index === 0 ? '' : '/';
    if (only?.kind === 'param' && (only.optional || only.catchAll)) {
      if (only.catchAll && index !== segments.length - 1) {
        throw new Error(`route "${template}": a catch-all parameter {*${only.name}} must be the last segment`);
      }
      params.push(only);
      source += `(?:${lead}(${only.catchAll ? '.*' : '[^/]+'}))?`;
      precedence.push(only.catchAll ? 4 : 3);
      return;
    }
    source += lead;
    let rank = 0;
    for (const part of parts) {
      if (part.kind === 'literal') {
        source += escapeRegex(part.text);
      } else {
        if (part.catchAll) throw new Error(`route "${template}": a catch-all parameter must fill its segment`);
        params.push(part);
        source += '([^/]+?)';
        rank = Math.max(rank, part.constraints.length > 0 ? 1 : 2);
      }
    }
    precedence.push(rank);
  });
  const regex = new RegExp(`${source}/?$`, 'i');
  const names = new Set<string>();
  for (const p of params) {
    if (names.has(p.name.toLowerCase())) throw new Error(`route "${template}": parameter "${p.name}" appears twice`);
    names.add(p.name.toLowerCase());
  }
  return {
    template,
    precedence,
    match(relativePath) {
      const m = regex.exec(relativePath.replace(/^\/+/, ''));
      if (!m) return undefined;
      const values: Record<string, string> = {};
      for (let i = 0; i < params.length; i++) {
        const param = params[i];
        const raw = m[i + 1];
        if (!param) continue;
        if (raw === undefined || raw === '') {
          if (!param.optional) return undefined;
          continue;
        }
        const value = param.catchAll ? raw.split('/').map(decode).join('/') : decode(raw);
        if (!param.constraints.every((c) => c(value))) return undefined;
        values[param.name] = value;
      }
      return values;
    },
  };
}

/** Sort comparator: more specific routes first (ASP.NET's route precedence, simplified). */
export function byPrecedence(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const x = a.precedence[i] ?? -1;
    const y = b.precedence[i] ?? -1;
    if (x !== y) return x - y;
  }
  return 0;
}
