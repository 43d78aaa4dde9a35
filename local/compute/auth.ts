import { ArmError } from './armErrors';

/**
 * ARM's front door: every ARM request needs `Authorization: Bearer <token>`. The emulator accepts
 * any non-empty token (there is no Entra ID to validate it against, DEVIATIONS.md item 5) but, like
 * ARM, answers a request without one with 401 before anything else (routing, api-version, throttles).
 */
const AUTHORIZATION_URI = 'https://login.microsoftonline.com/common';

/** The 401 for this Authorization header value, or undefined when it carries a bearer token. */
export function authenticationError(authorization: string | undefined): ArmError | undefined {
  if (authorization === undefined || authorization.trim() === '') {
    return unauthenticated(
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      "The authentication failed because of missing 'Authorization' header.",
    );
  }
  // `Bearer <token>`: the scheme is case-insensitive (RFC 9110 §11.1), the token must not be empty.
  if (/^bearer +\S+ *$/i.test(authorization)) return undefined;
  // ARM's code for a header it cannot read (recorded: azure-sdk-for-python#4124).
  return unauthenticated(
    'AuthenticationFailedInvalidHeader',
    "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    "The authentication failed because the 'Authorization' header is not of the form 'Bearer <token>'.",
  );
}

function unauthenticated(code: string, message: string, description: string): ArmError {
  return new ArmError(401, code, message, {
    headers: {
      'www-authenticate': `Bearer authorization_uri="${AUTHORIZATION_URI}", error="invalid_token", error_description="${description}"`,
      'x-ms-failure-cause': 'gateway',
    },
  });
}
