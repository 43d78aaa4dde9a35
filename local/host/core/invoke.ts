/**
 * The worker's invocation pipeline (InvocationHandler.ts): the library's own InvocationModel turns
 * RPC data into handler arguments and the result back into RPC data; the host runs the hooks around it.
 */
import { randomUUID } from 'node:crypto';
import { ensureError } from '../../../lib/errors';
import { fromRpcLevel, type HostLogger } from '../log';
import type { FunctionRegistry, RegisteredFunction } from './registry';
import type {
  CoreInvocationContext,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcRetryContext,
  RpcTypedData,
} from './rpcTypes';

export interface InvocationRequest {
  /** Trigger data (and any input data the caller already has), by binding name. */
  inputData: RpcParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
  retryContext?: RpcRetryContext;
  /** Shown in the invocation's log line, e.g. `POST /api/items/3` or `schedule`. */
  reason?: string;
}

export interface InvocationResult {
  invocationId: string;
  response: RpcInvocationResponse;
  durationMs: number;
}

/** A failed invocation: carries the invocation id (for the 500 body) and the handler's own error as `cause`. */
export class InvocationError extends Error {
  constructor(
    readonly functionName: string,
    readonly invocationId: string,
    readonly original: Error,
  ) {
    super(`Function '${functionName}' failed (invocation ${invocationId}): ${original.message}`, { cause: original });
    this.name = 'InvocationError';
  }
}

/** Supplies the data of a non-trigger input binding (e.g. durableClient) at invocation time. */
export type InputProvider = (fn: RegisteredFunction, bindingName: string) => RpcTypedData | undefined;

export class InvocationPipeline {
  private readonly inputProviders = new Map<string, InputProvider>();
  private readonly warnedBindings = new Set<string>();
  /** Invocations still running: a stopping host waits for them (drain), as the Functions host does. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly logger: HostLogger,
  ) {}

  /** Registers the provider for every input binding of `type` (case-insensitive). */
  setInputProvider(type: string, provider: InputProvider): void {
    this.inputProviders.set(type.toLowerCase(), provider);
  }

  invoke(fn: RegisteredFunction, request: InvocationRequest): Promise<InvocationResult> {
    const invocation = this.invokeOnce(fn, request);
    this.running.add(invocation);
    void invocation.then(
      () => this.running.delete(invocation),
      () => this.running.delete(invocation),
    );
    return invocation;
  }

  /**
   * Waits for the invocations still running, at most `timeoutMs` of wall time; resolves to how many did not
   * finish. The app runs in this process: code left running past its host's stop would go on writing to the
   * storage and Azure the next host uses, which no stopped Functions host does.
   */
  async drain(timeoutMs: number): Promise<number> {
    if (this.running.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
    clearTimeout(timer);
    return this.running.size;
  }

  private async invokeOnce(fn: RegisteredFunction, request: InvocationRequest): Promise<InvocationResult> {
    const invocationId = randomUUID();
    const started = performance.now();
    const label = `${fn.name} (${fn.trigger.type}${request.reason ? `: ${request.reason}` : ''})`;
    try {
      const response = await this.run(fn, invocationId, request);
      const durationMs = performance.now() - started;
      this.logger.log('info', `${label} Succeeded in ${durationMs.toFixed(0)} ms, id=${invocationId}`);
      return { invocationId, response, durationMs };
    } catch (thrown) {
      const error = ensureError(thrown);
      const durationMs = performance.now() - started;
      this.logger.log(
        'error',
        `${label} Failed in ${durationMs.toFixed(0)} ms, id=${invocationId}: ${describe(error)}`,
      );
      throw new InvocationError(fn.name, invocationId, error);
    }
  }

  private async run(
    fn: RegisteredFunction,
    invocationId: string,
    request: InvocationRequest,
  ): Promise<RpcInvocationResponse> {
    const model = this.registry.programmingModel;
    if (!model) throw new Error('No programming model was set: the app never called @azure/functions app.*');
    const inputData = [...request.inputData, ...this.extraInputs(fn, request.inputData)];
    const current: { context?: unknown } = {};
    const coreCtx: CoreInvocationContext = {
      invocationId,
      request: {
        invocationId,
        functionId: fn.metadata.functionId ?? fn.name,
        inputData,
        triggerMetadata: request.triggerMetadata ?? {},
        retryContext: request.retryContext ?? null,
      },
      metadata: { ...fn.metadata, rawBindings: fn.rawBindings },
      log: (level, category, message) => this.userLog(fn, invocationId, current.context, level, category, message),
    };
    const invocationModel = await model.getInvocationModel(coreCtx);
    const { context, inputs } = await invocationModel.getArguments();
    current.context = context;

    const hookData: Record<string, unknown> = {};
    const appHookData = this.registry.appHookData;
    const pre = { hookData, appHookData, invocationContext: context, inputs, functionCallback: fn.callback };
    coreCtx.state = 'preInvocationHooks';
    for (const hook of [...this.registry.hooks.preInvocation]) await hook(pre);
    coreCtx.state = undefined;

    let result: unknown;
    let error: unknown;
    try {
      coreCtx.state = 'invocation';
      result = await invocationModel.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (thrown) {
      error = thrown;
    }

    const post = { hookData, appHookData, invocationContext: context, inputs: pre.inputs, result, error };
    coreCtx.state = 'postInvocationHooks';
    for (const hook of [...this.registry.hooks.postInvocation]) await hook(post);
    coreCtx.state = undefined;

    if (post.error !== undefined && post.error !== null) throw ensureError(post.error);
    return invocationModel.getResponse(context, post.result);
  }

  private extraInputs(fn: RegisteredFunction, given: RpcParameterBinding[]): RpcParameterBinding[] {
    const extra: RpcParameterBinding[] = [];
    for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
      if (binding.direction !== 'in' || name === fn.trigger.name || given.some((g) => g.name === name)) continue;
      const type = String(binding.type ?? '').toLowerCase();
      const provider = this.inputProviders.get(type);
      if (provider) {
        const data = provider(fn, name);
        if (data !== undefined) extra.push({ name, data });
      } else if (!this.warnedBindings.has(`${fn.name}/${type}`)) {
        this.warnedBindings.add(`${fn.name}/${type}`);
        this.logger.log('warn', `${fn.name}: input binding type "${String(binding.type)}" is not supported locally`);
      }
    }
    return extra;
  }

  private userLog(
    fn: RegisteredFunction,
    invocationId: string,
    invocationContext: unknown,
    level: RpcLogLevel,
    category: RpcLogCategory,
    message: string,
  ): void {
    const entry = {
      hookData: {},
      appHookData: this.registry.appHookData,
      level,
      category,
      message,
      invocationContext,
    };
    // Log hooks run synchronously (as in the worker) and may rewrite level and message.
    for (const hook of [...this.registry.hooks.log]) {
      try {
        void hook(entry);
      } catch (thrown) {
        this.logger.log('warn', `log hook threw: ${ensureError(thrown).message}`);
      }
    }
    if (entry.level === 'none') return;
    this.logger.log(fromRpcLevel(entry.level), `  ${fn.name} [${invocationId.slice(0, 8)}] ${entry.message}`);
  }
}

const OUT_OF_PROC_DATA = '\n\n$OutOfProcData$:';

/** The error for the log: an orchestrator's failure shows its reason, not the whole protocol state. */
function describe(error: Error): string {
  const at = error.message.indexOf(OUT_OF_PROC_DATA);
  if (at < 0) return error.stack ?? error.message;
  try {
    const state = JSON.parse(error.message.slice(at + OUT_OF_PROC_DATA.length)) as { error?: unknown };
    return `orchestrator failed: ${String(state.error)}`;
  } catch {
    return error.message.slice(0, at);
  }
}

/** Decodes RpcTypedData the way the extension sees a return value (strings stay strings). */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json) as unknown;
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.int !== undefined && data.int !== null) return Number(data.int);
  if (data.double !== undefined && data.double !== null) return data.double;
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.stream) return Buffer.from(data.stream);
  return undefined;
}
