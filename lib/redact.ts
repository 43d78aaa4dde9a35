/**
 * Removes secrets from text bound for logs, exceptions, Durable history or Table rows (C4): URL query strings
 * (SAS `sig=`, operation URLs' signed `t=&c=&s=&h=`), bare SAS parameters, bearer tokens, JWTs, account keys.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>?#]*)\?[^\s"'<>#]*/gi, '$1?<redacted>')
    .replace(/\b(sig|sv|se|st|sp|spr|srt|ss|sr|skoid|sktid|skt|ske|sks|skv|signature)=[^&\s"';,]+/gi, '$1=<redacted>')
    .replace(/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi, 'Bearer <redacted>')
    .replace(/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '<redacted-jwt>')
    .replace(
      /\b(AccountKey|SharedAccessSignature|SharedAccessKey|AccessKey|client_secret|password)=[^;&\s"']+/gi,
      '$1=<redacted>',
    );
}
