import { type FieldError, ProblemError } from '../errors/problem.js';
import { CANONICAL_TYPES, domainOfType } from '../model/catalog.js';
import type { CloudEvent } from '../model/envelope.js';
import { jsonSchemaOf, schemaId } from '../model/schemas/index.js';
import { createDataValidator, type DataValidator } from '../model/schemas/validator.js';
import type { SchemaRepository, SchemaStatus, SchemaTypeRecord, SchemaVersionRecord } from '../store/port.js';
import {
  COMPATIBILITY_MODES,
  type CompatibilityMode,
  checkCompatibility,
  type JsonSchema,
} from './compatibility.js';
import { validateSchemaDocument } from './schema-document.js';

/** What ingress learns about one event's data. */
export interface DataCheck {
  readonly errors: FieldError[];
  /** The version used, when it is deprecated (the caller adds a `Deprecation` header). */
  readonly deprecated: { type: string; version: number } | null;
}

export interface TypeDescription extends SchemaTypeRecord {
  readonly versions: ReadonlyArray<{
    version: number;
    status: SchemaStatus;
    schema: object;
    createdAt: string;
    createdBy: string;
  }>;
}

/** Status changes the registry allows: forward through the life cycle, or back from deprecated. */
const TRANSITIONS: Record<SchemaStatus, readonly SchemaStatus[]> = {
  proposed: ['approved', 'retired'],
  approved: ['deprecated', 'retired'],
  deprecated: ['approved', 'retired'],
  retired: [],
};

const DATASCHEMA = /^urn:conveyor:schema:([^:]+):(\d+)$/;

/**
 * The schema registry: versions per event type with their life cycle, compatibility checks on
 * proposal, and the validation of event data at ingress. Versions are held in memory (they are few
 * and change rarely) and compiled once; the state store is the record.
 */
export class SchemaRegistry {
  private readonly byType = new Map<string, { record: SchemaTypeRecord; versions: SchemaVersionRecord[] }>();
  private readonly validator: DataValidator = createDataValidator();

  private constructor(private readonly repo: SchemaRepository) {}

  /** Loads the registry, adding version 1 of every canonical type on first start. */
  static async open(repo: SchemaRepository, now: number = Date.now()): Promise<SchemaRegistry> {
    for (const [type, info] of CANONICAL_TYPES) {
      await repo.ensureType({ type, domain: info.domain, owner: info.owner, compatibility: 'BACKWARD' });
      if ((await repo.versions(type)).length === 0) {
        await repo.addVersion(type, jsonSchemaOf(type) as object, 'approved', 'conveyor', now);
      }
    }
    const registry = new SchemaRegistry(repo);
    for (const record of await repo.types()) registry.byType.set(record.type, { record, versions: [] });
    for (const version of await repo.allVersions()) {
      registry.byType.get(version.type)?.versions.push(version);
      if (version.status === 'approved' || version.status === 'deprecated') registry.compile(version);
    }
    return registry;
  }

  private compile(version: SchemaVersionRecord): void {
    if (!this.validator.has(version.type, version.version)) {
      this.validator.register(version.type, version.version, version.schema);
    }
  }

  types(): TypeDescription[] {
    return [...this.byType.keys()].sort().map((type) => this.describe(type) as TypeDescription);
  }

  describe(type: string): TypeDescription | undefined {
    const entry = this.byType.get(type);
    if (!entry) return undefined;
    return {
      ...entry.record,
      versions: entry.versions.map((v) => ({
        version: v.version,
        status: v.status,
        schema: v.schema,
        createdAt: new Date(v.createdAt).toISOString(),
        createdBy: v.createdBy,
      })),
    };
  }

  /** The latest approved version of a type (what events without `dataschema` are checked against). */
  latestApproved(type: string): number | undefined {
    const versions = this.byType.get(type)?.versions ?? [];
    for (let i = versions.length - 1; i >= 0; i--)
      if (versions[i]?.status === 'approved') return versions[i]?.version;
    return undefined;
  }

  private latestWith(type: string, status: SchemaStatus): number | undefined {
    const versions = this.byType.get(type)?.versions ?? [];
    for (let i = versions.length - 1; i >= 0; i--)
      if (versions[i]?.status === status) return versions[i]?.version;
    return undefined;
  }

  /** Checks an event's data against the schema its `dataschema` names, else the latest approved version. */
  checkEvent(event: CloudEvent, at = ''): DataCheck {
    const entry = this.byType.get(event.type);
    if (!entry) {
      return {
        errors: [
          {
            path: `${at}/type`,
            message: `unknown event type "${event.type}"; register its schema in the catalog first`,
          },
        ],
        deprecated: null,
      };
    }
    let version: number | undefined;
    const named = typeof event.dataschema === 'string' ? DATASCHEMA.exec(event.dataschema) : null;
    if (named) {
      if (named[1] !== event.type) {
        return {
          errors: [
            { path: `${at}/dataschema`, message: `names type ${named[1]} but the event is ${event.type}` },
          ],
          deprecated: null,
        };
      }
      version = Number(named[2]);
    } else version = this.latestApproved(event.type) ?? this.latestWith(event.type, 'deprecated');
    const record = entry.versions.find((v) => v.version === version);
    const latest = this.latestApproved(event.type);
    if (version === undefined || !record) {
      return {
        errors: [
          { path: `${at}/dataschema`, message: `${event.type} has no version ${version ?? '(approved)'}` },
        ],
        deprecated: null,
      };
    }
    if (record.status === 'proposed' || record.status === 'retired') {
      const hint = latest !== undefined ? `; use ${schemaId(event.type, latest)}` : '';
      return {
        errors: [
          {
            path: `${at}/dataschema`,
            message: `${event.type} version ${version} is ${record.status}, not accepted${hint}`,
          },
        ],
        deprecated: null,
      };
    }
    if (event.data === undefined) {
      return {
        errors: [
          { path: `${at}/data`, message: `${event.type} needs JSON data (data_base64 cannot be validated)` },
        ],
        deprecated: null,
      };
    }
    const errors = this.validator
      .validate(event.type, version, event.data)
      .map((p) => ({ path: `${at}${p.path}`, message: p.message }));
    return { errors, deprecated: record.status === 'deprecated' ? { type: event.type, version } : null };
  }

  /**
   * Proposes a new version. A new type needs an `owner`. The schema must be valid JSON Schema and
   * compatible with the type's approved and deprecated versions under its compatibility mode
   * (which `compatibility`, when given, sets).
   */
  async propose(
    type: string,
    schema: unknown,
    options: { compatibility?: string; owner?: string },
    actor: string,
    now: number = Date.now(),
  ): Promise<{ type: string; version: number; status: SchemaStatus }> {
    if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(type)) {
      throw new ProblemError('validation-failed', `"${type}" is not an event type name`, {
        errors: [
          {
            path: '/type',
            message: 'must be dot-separated lower-case words, e.g. production.order.released',
          },
        ],
      });
    }
    const mode = options.compatibility;
    if (mode !== undefined && !COMPATIBILITY_MODES.includes(mode as CompatibilityMode)) {
      throw new ProblemError('validation-failed', 'unknown compatibility mode', {
        errors: [{ path: '/compatibility', message: `must be one of ${COMPATIBILITY_MODES.join(', ')}` }],
      });
    }
    let entry = this.byType.get(type);
    if (!entry && !options.owner) {
      throw new ProblemError(
        'not-found',
        `unknown event type "${type}"; to register a new type, include "owner" (the owning team)`,
      );
    }
    const problems = validateSchemaDocument(schema);
    if (problems.length > 0) {
      throw new ProblemError(
        'validation-failed',
        'the schema is not a usable JSON Schema 2020-12 document; nothing was stored',
        {
          errors: problems.map((p) => ({ path: `/schema${p.path}`, message: p.message })),
        },
      );
    }
    const effectiveMode = (mode ?? entry?.record.compatibility ?? 'BACKWARD') as CompatibilityMode;
    const previous = (entry?.versions ?? []).filter(
      (v) => v.status === 'approved' || v.status === 'deprecated',
    );
    const verdict = checkCompatibility(
      schema as JsonSchema,
      previous.map((v) => v.schema as JsonSchema),
      effectiveMode,
    );
    if (!verdict.compatible) {
      throw new ProblemError(
        'schema-incompatible',
        `the schema is not ${effectiveMode} compatible with the existing versions of ${type}; nothing was stored`,
        {
          errors: verdict.problems.map((p) => ({
            path: p.path,
            message: `${p.message} (rule ${p.rule}, against version ${previous[p.against]?.version}, ${p.direction})`,
          })),
        },
      );
    }
    if (!entry) {
      const record = {
        type,
        domain: domainOfType(type),
        owner: options.owner as string,
        compatibility: effectiveMode,
      };
      await this.repo.ensureType(record);
      entry = { record, versions: [] };
      this.byType.set(type, entry);
    } else if (mode !== undefined && mode !== entry.record.compatibility) {
      await this.repo.setCompatibility(type, mode);
      entry.record = { ...entry.record, compatibility: mode };
    }
    const version = await this.repo.addVersion(type, schema as object, 'proposed', actor, now);
    entry.versions.push({
      type,
      version,
      status: 'proposed',
      schema: schema as object,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
      updatedBy: actor,
    });
    return { type, version, status: 'proposed' };
  }

  /** Moves a version through its life cycle; approving compiles it for ingress. */
  async setStatus(
    type: string,
    version: number,
    status: SchemaStatus,
    actor: string,
    now: number = Date.now(),
  ): Promise<SchemaVersionRecord> {
    const entry = this.byType.get(type);
    const index = entry?.versions.findIndex((v) => v.version === version) ?? -1;
    const current = entry?.versions[index];
    if (!entry || !current) throw new ProblemError('not-found', `${type} has no version ${version}`);
    if (!TRANSITIONS[current.status].includes(status)) {
      throw new ProblemError(
        'conflict',
        `${type} version ${version} is ${current.status}; it cannot become ${status}`,
      );
    }
    const updated = { ...current, status, updatedAt: now, updatedBy: actor };
    if (status === 'approved') this.compile(updated);
    await this.repo.setStatus(type, version, status, actor, now);
    entry.versions[index] = updated;
    return updated;
  }
}
