import { type AsnDocument, buildDesadv, buildX12Asn, canonicalAsn } from './edi-samples.js';
import { type HubClient, HubClientClosedError } from './hub-client.js';
import { COMPONENTS, type Component, runPrefix } from './master-data.js';
import { Ticker } from './ticker.js';

export type AsnFormat = 'json' | 'x12' | 'edifact';

const CONTENT_TYPES: Readonly<Record<AsnFormat, string>> = {
  json: 'application/json',
  x12: 'application/edi-x12',
  edifact: 'application/edifact',
};

export interface SupplierOptions {
  /** The supplier's id: the path of its ASNs, its ship-from party and its interchange sender id (max 15). */
  readonly supplierId: string;
  readonly supplierName?: string;
  /** Plants it delivers to, in turn. */
  readonly plants: readonly string[];
  /** What it ships. @default COMPONENTS */
  readonly components?: readonly Component[];
  /** One ASN every `intervalMs`. @default 15_000 */
  readonly intervalMs?: number;
  /** Formats in rotation. @default ['json', 'x12', 'edifact'] */
  readonly formats?: readonly AsnFormat[];
  /** The interchange receiver id. @default CONVEYOR */
  readonly receiver?: string;
  readonly random?: () => number;
  readonly now?: () => number;
}

/**
 * Simulated supplier portal: sends an ASN now and then through `POST /v1/suppliers/{id}/asns`, in
 * turn as canonical JSON, an X12 856 and an EDIFACT DESADV interchange, each made from the same kind
 * of ASN data with its own control numbers. Owns its hub client: close() closes it.
 */
export class SimulatedSupplier {
  sent = 0;
  accepted = 0;
  /** Refused by the hub (4xx, e.g. `invalid-edi`); `lastRefusal` holds the last answer. */
  rejected = 0;
  failed = 0;
  readonly acceptedByFormat: Record<AsnFormat, number> = { json: 0, x12: 0, edifact: 0 };
  lastRefusal: unknown;
  private readonly ticker: Ticker;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly prefix: string;
  private asnNumber = 0;
  private controlNumber = 0;

  constructor(
    private readonly hub: HubClient,
    private readonly options: SupplierOptions,
  ) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.prefix = runPrefix(this.now());
    this.ticker = new Ticker(options.intervalMs ?? 15_000, () => this.sendNext());
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  idle(): Promise<void> {
    return this.ticker.drain();
  }

  statusLine(): string {
    const f = this.acceptedByFormat;
    return `ASNs accepted ${this.accepted} (JSON ${f.json}, X12 ${f.x12}, EDIFACT ${f.edifact}) · rejected ${this.rejected}`;
  }

  /** The next ASN's data: one to three components, shipped today, to the next plant. */
  nextAsn(): AsnDocument {
    const n = ++this.asnNumber;
    const { plants } = this.options;
    const pool = [...(this.options.components ?? COMPONENTS)];
    const count = Math.min(pool.length, 1 + Math.floor(this.random() * 3));
    const lines = Array.from({ length: count }, (_, i) => {
      const [component] = pool.splice(Math.floor(this.random() * pool.length), 1) as [Component];
      const value =
        component.uom === 'EA'
          ? 100 * (1 + Math.floor(this.random() * 20))
          : 25 * (1 + Math.floor(this.random() * 40));
      return {
        material: component.material,
        quantity: { value, uom: component.uom },
        lots: [`${this.options.supplierId}-${this.prefix}-${n}-${i + 1}`],
      };
    });
    return {
      asnId: `ASN-${this.prefix}-${String(n).padStart(6, '0')}`,
      supplierId: this.options.supplierId,
      ...(this.options.supplierName ? { supplierName: this.options.supplierName } : {}),
      plant: plants[n % plants.length] as string,
      shipDate: new Date(this.now()).toISOString().slice(0, 10),
      lines,
      purchaseOrder: `4500${String(n).padStart(6, '0')}`,
    };
  }

  /** Sends the next ASN in the next format of the rotation. */
  async sendNext(): Promise<void> {
    const formats = this.options.formats ?? ['json', 'x12', 'edifact'];
    const format = formats[this.asnNumber % formats.length] as AsnFormat;
    const asn = this.nextAsn();
    const envelope = {
      sender: this.options.supplierId,
      receiver: this.options.receiver ?? 'CONVEYOR',
      controlNumber: ++this.controlNumber,
      preparedAt: new Date(this.now()),
    };
    const body =
      format === 'json'
        ? canonicalAsn(asn)
        : format === 'x12'
          ? buildX12Asn(asn, envelope)
          : buildDesadv(asn, envelope);
    this.sent++;
    try {
      const response = await this.hub.command(
        'POST',
        `/v1/suppliers/${encodeURIComponent(this.options.supplierId)}/asns`,
        body,
        { contentType: CONTENT_TYPES[format], idempotencyKey: `asn-${asn.asnId}` },
      );
      if (response.status === 202 || response.status === 201) {
        this.accepted++;
        this.acceptedByFormat[format]++;
      } else if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        this.rejected++;
        this.lastRefusal = response.body;
      } else this.failed++;
    } catch (error) {
      if (!(error instanceof HubClientClosedError)) this.failed++;
    }
  }

  async close(): Promise<void> {
    this.stop();
    await this.hub.close();
    await this.ticker.drain();
  }
}
