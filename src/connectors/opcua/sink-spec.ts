/**
 * `kind: opcua-out`: delivers events to an OPC UA server (a PLC or its gateway) by writing
 * variables and/or calling a method, with values computed from each event by JSONata.
 */

import { isAbsolute, join, resolve } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import jsonata from 'jsonata';
import { DURATION_PATTERN } from '../../util/duration.js';
import { type Problems, SinkCommonFields } from '../framework/common.js';
import type { ConnectorSpec } from '../framework/types.js';
import { NODE_ID_PATTERN, OpcuaConnectionFields } from './spec.js';

const Strict = { additionalProperties: false } as const;

export const OPCUA_OUT_TYPES = ['Boolean', 'Int32', 'UInt32', 'Double', 'String'] as const;
export type OpcuaOutDataType = (typeof OPCUA_OUT_TYPES)[number];

const DataTypeField = T.Union(
  OPCUA_OUT_TYPES.map((t) => T.Literal(t)),
  { description: 'The OPC UA type the value is written as.', 'x-hint': OPCUA_OUT_TYPES.join(', ') },
);

const NodeId = (description: string) =>
  T.String({ pattern: NODE_ID_PATTERN, description, 'x-hint': 'a node id such as ns=1;s=Press7.Hold' });

const ValueExpression = T.String({
  minLength: 1,
  description: 'JSONata over the event giving the value, e.g. data.reason or true.',
});

const WriteSchema = T.Object(
  {
    nodeId: NodeId('The variable to write, e.g. ns=1;s=Press7.HoldReason.'),
    dataType: DataTypeField,
    value: ValueExpression,
  },
  Strict,
);

const MethodSchema = T.Object(
  {
    objectId: NodeId('The object the method belongs to.'),
    methodId: NodeId('The method to call.'),
    inputs: T.Optional(
      T.Array(T.Object({ dataType: DataTypeField, value: ValueExpression }, Strict), {
        maxItems: 64,
        description: 'The input arguments, in order. @default none',
      }),
    ),
  },
  Strict,
);

export const OpcuaOutSchema = T.Object(
  {
    kind: T.Literal('opcua-out'),
    ...SinkCommonFields,
    ...OpcuaConnectionFields,
    writes: T.Optional(
      T.Array(WriteSchema, {
        minItems: 1,
        maxItems: 1_000,
        description: 'Variables written per delivery, all in one write request.',
      }),
    ),
    method: T.Optional(MethodSchema),
    timeout: T.Optional(
      T.String({
        pattern: DURATION_PATTERN,
        description: 'Bound of one delivery (connecting included) for routes that set none. @default 5s',
        'x-hint': 'a duration such as 500ms, 30s or 5m',
      }),
    ),
  },
  {
    ...Strict,
    description:
      "Each delivery evaluates the value expressions against the event, then writes the variables and/or calls the method; the route's transform is not used.",
  },
);

export type RawOpcuaOutConfig = Static<typeof OpcuaOutSchema>;

export interface OpcuaOutValue {
  readonly dataType: OpcuaOutDataType;
  /** JSONata source; compiled by the sink. */
  readonly value: string;
}

export interface OpcuaOutWrite extends OpcuaOutValue {
  readonly nodeId: string;
}

export interface OpcuaOutConfig {
  readonly endpoint: string;
  readonly securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  readonly securityPolicy: 'None' | 'Basic256Sha256';
  readonly auth: { readonly username: string; readonly password: string } | null;
  readonly pkiDir: string;
  readonly acceptUnknownServerCertificate: boolean;
  readonly writes: readonly OpcuaOutWrite[];
  readonly method: {
    readonly objectId: string;
    readonly methodId: string;
    readonly inputs: readonly OpcuaOutValue[];
  } | null;
}

function checkExpression(expression: string, path: string, problems: Problems): void {
  try {
    jsonata(expression);
  } catch (error) {
    const e = error as { message: string; position?: number };
    problems.push({ path, message: `invalid JSONata at position ${e.position ?? '?'}: ${e.message}` });
  }
}

function compile(input: Record<string, unknown>, at: string, problems: Problems, baseDir: string) {
  const raw = input as RawOpcuaOutConfig;
  try {
    const url = new URL(raw.endpoint);
    if (url.protocol !== 'opc.tcp:' || url.hostname === '')
      problems.push({
        path: `${at}.endpoint`,
        message: `"${raw.endpoint}" is not an opc.tcp://host:port URL`,
      });
    else if (url.username || url.password)
      problems.push({ path: `${at}.endpoint`, message: 'put credentials in auth, not in the URL' });
  } catch {
    problems.push({ path: `${at}.endpoint`, message: `"${raw.endpoint}" is not an opc.tcp://host:port URL` });
  }
  const securityMode = raw.securityMode ?? 'None';
  const securityPolicy = raw.securityPolicy ?? (securityMode === 'None' ? 'None' : 'Basic256Sha256');
  if (securityMode !== 'None' && securityPolicy === 'None')
    problems.push({ path: `${at}.securityPolicy`, message: `${securityMode} needs Basic256Sha256` });
  if (securityMode === 'None' && securityPolicy !== 'None')
    problems.push({
      path: `${at}.securityMode`,
      message: `${securityPolicy} needs Sign or SignAndEncrypt; with None nothing is protected`,
    });
  if (raw.writes === undefined && raw.method === undefined)
    problems.push({ path: at, message: 'give writes, method or both: what each delivery does' });
  const writes = (raw.writes ?? []).map((w, i) => {
    checkExpression(w.value, `${at}.writes[${i}].value`, problems);
    return Object.freeze({ nodeId: w.nodeId, dataType: w.dataType, value: w.value });
  });
  const inputs = (raw.method?.inputs ?? []).map((input, i) => {
    checkExpression(input.value, `${at}.method.inputs[${i}].value`, problems);
    return Object.freeze({ dataType: input.dataType, value: input.value });
  });
  const dir = raw.pki?.dir;
  const config: OpcuaOutConfig = {
    endpoint: raw.endpoint,
    securityMode,
    securityPolicy,
    auth: raw.auth ? { username: raw.auth.username, password: raw.auth.password ?? '' } : null,
    pkiDir: dir ? (isAbsolute(dir) ? dir : resolve(baseDir, dir)) : join(baseDir, 'opcua-pki'),
    acceptUnknownServerCertificate: raw.pki?.acceptUnknownServerCertificate ?? false,
    writes: Object.freeze(writes),
    method: raw.method
      ? Object.freeze({
          objectId: raw.method.objectId,
          methodId: raw.method.methodId,
          inputs: Object.freeze(inputs),
        })
      : null,
  };
  return Object.freeze(config);
}

export const opcuaOutSinkSpec: ConnectorSpec<OpcuaOutConfig> = {
  kind: 'opcua-out',
  summary:
    'Writes OPC UA variables and/or calls a method per event (values by JSONata over the event; the route transform is not used).',
  stability: 'experimental',
  schema: OpcuaOutSchema,
  compile,
};
