/**
 * Every error the emulator returns comes from here, with the status, code and message Azure uses
 * (docs/azure-api.md §5). Messages Azure does not document are marked in DEVIATIONS.md.
 */
export interface CloudErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: {
      target?: string;
      details?: CloudErrorDetail[];
      headers?: Record<string, string>;
      /** CRP's documented 429 body has no `error` wrapper. */
      unwrapped?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'ArmError';
  }

  /** Adds response headers (merged over existing ones); returns this for chaining. */
  withHeaders(headers: Record<string, string>): this {
    this.extra.headers = { ...this.extra.headers, ...headers };
    return this;
  }

  /** The CloudError body `{ error: { code, message, target?, details? } }`. */
  body(): unknown {
    const inner: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.extra.target !== undefined) inner.target = this.extra.target;
    if (this.extra.details !== undefined) inner.details = this.extra.details;
    return this.extra.unwrapped ? inner : { error: inner };
  }

  /** The `error` object of an operation-status body. */
  errorObject(): { code: string; message: string; details?: CloudErrorDetail[] } {
    return this.extra.details
      ? { code: this.code, message: this.message, details: this.extra.details }
      : { code: this.code, message: this.message };
  }
}

const NOT_FOUND_FIX = 'For more details please go to https://aka.ms/ARMResourceNotFoundFix';

/** ARM's 404 for a resource that does not exist; `type` like `Microsoft.Compute/disks/d1`. */
export function resourceNotFound(typeAndName: string, resourceGroup: string): ArmError {
  return new ArmError(
    404,
    'ResourceNotFound',
    `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found. ${NOT_FOUND_FIX}`,
  );
}

export function parentResourceNotFound(parentTypeAndName: string): ArmError {
  return new ArmError(
    404,
    'ParentResourceNotFound',
    `Can not perform requested operation on nested resource. Parent resource '${parentTypeAndName}' not found.`,
  );
}

export function notImplemented(method: string, path: string): ArmError {
  return new ArmError(
    501,
    'NotImplemented',
    `The Compute emulator does not implement '${method} ${path}'. See local/compute/DEVIATIONS.md for the implemented operations.`,
  );
}

export function missingApiVersion(): ArmError {
  return new ArmError(
    400,
    'MissingApiVersionParameter',
    'The api-version query parameter (?api-version=) is required for all requests.',
  );
}

export function invalidApiVersion(apiVersion: string): ArmError {
  return new ArmError(
    400,
    'InvalidApiVersionParameter',
    `The api-version '${apiVersion}' is invalid. The supported versions are dates from '2021-03-01' on (YYYY-MM-DD, optionally with a '-preview' suffix).`,
  );
}

/** The troubleshooting page's error for restore-point calls made with an old api-version. */
export function apiVersionTooOld(minimum: string): ArmError {
  return new ArmError(400, 'BadRequest', `This request can be made with api-version '${minimum}' or newer.`);
}

export function invalidSubscriptionId(subscriptionId: string): ArmError {
  return new ArmError(
    400,
    'InvalidSubscriptionId',
    `The provided subscription identifier '${subscriptionId}' is malformed or invalid.`,
  );
}

export function invalidResourceName(name: string, maxLength: number): ArmError {
  return new ArmError(
    400,
    'InvalidResourceName',
    `Resource name ${name} is invalid. The name can be up to ${maxLength} characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.`,
  );
}

/** ARM's answer to a body that is not JSON. */
export function invalidRequestContent(reason: string): ArmError {
  return new ArmError(
    400,
    'InvalidRequestContent',
    `The request content was invalid and could not be deserialized: '${reason}'.`,
  );
}

/** CRP's answer to a body with a wrongly typed field. */
export function invalidRequestFormat(path: string, rule: string): ArmError {
  return new ArmError(400, 'InvalidRequestFormat', 'Cannot parse the request.', {
    details: [
      { code: 'InvalidJsonReferenceFormat', target: path, message: `Reading property '${path}' failed: ${rule}.` },
    ],
  });
}

export function invalidParameter(target: string, message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', message, { target });
}

export function propertyChangeNotAllowed(property: string): ArmError {
  return new ArmError(409, 'PropertyChangeNotAllowed', `Changing property '${property}' is not allowed.`, {
    target: property,
  });
}

export function provisioningStateMismatch(requested: string, current: string): ArmError {
  return new ArmError(
    400,
    'InvalidRequestContent',
    `The request content was invalid: 'properties.provisioningState' is read-only; the request says '${requested}' but the resource's provisioning state is '${current}'.`,
    { target: 'properties.provisioningState' },
  );
}

export function operationNotAllowed(message: string, status = 409): ArmError {
  return new ArmError(status, 'OperationNotAllowed', message);
}

export function conflictingOperation(resourceName: string): ArmError {
  return new ArmError(
    409,
    'OperationNotAllowed',
    `Operation cannot be performed on '${resourceName}' because another operation is in progress on it. Retry after it completes.`,
  );
}

export function restorePointClientError(message: string, status = 400): ArmError {
  return new ArmError(status, 'VMRestorePointClientError', message);
}

export const MESSAGES = {
  concurrentCreate:
    "RestorePoint creation failed since a concurrent 'Create RestorePoint' operation was triggered on the VM.",
  snapshotLimit:
    'Restore point creation failed since the maximum allowed snapshot limit of one or more disk blobs has been reached. Delete some existing restore points of this VM and then retry restore point creation.',
  diskChanged:
    "Changes were made to the Virtual Machine while the operation 'Create Restore Point' was in progress. Please retry the operation after some time.",
  sasActive:
    'There is an active shared access signature outstanding for disk restore point. Call EndGetAccess before deleting the restore point.',
  agentNotReady:
    'The VM agent is not reporting status. Application consistent restore point creation needs a healthy VM agent; check the VM agent or create a crash consistent restore point.',
  internal: 'An internal execution error occurred. Please retry later.',
} as const;

export function diskRestorePointUsedByCustomer(): ArmError {
  return new ArmError(409, 'DiskRestorePointUsedByCustomer', MESSAGES.sasActive);
}

/** ARM's subscription token-bucket throttle (request-limits-and-throttling.md). */
export function subscriptionThrottled(
  kind: 'read' | 'write' | 'delete',
  subscriptionId: string,
  retryAfterSeconds: number,
): ArmError {
  return new ArmError(
    429,
    'SubscriptionRequestsThrottled',
    `Number of '${kind}' requests for subscription '${subscriptionId}' actor '00000000-0000-0000-0000-000000000000' exceeded. Please try again after '${retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
    { headers: { 'retry-after': String(retryAfterSeconds) } },
  );
}

/** CRP's throttle (troubleshooting-throttling-errors.md): unwrapped body, TooManyRequests detail. */
export function computeThrottled(
  policy: string,
  detail: { startTime: string; endTime: string; allowedRequestCount: number; measuredRequestCount: number },
  retryAfterSeconds: number,
): ArmError {
  return new ArmError(
    429,
    'OperationNotAllowed',
    'The server rejected the request because too many requests have been received for this subscription.',
    {
      unwrapped: true,
      details: [
        { code: 'TooManyRequests', target: policy, message: JSON.stringify({ operationGroup: policy, ...detail }) },
      ],
      headers: { 'retry-after': String(retryAfterSeconds) },
    },
  );
}

export function internalError(): ArmError {
  return new ArmError(500, 'InternalExecutionError', MESSAGES.internal);
}
