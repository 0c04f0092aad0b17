import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildX12Asn } from './edi-samples.js';
import type { SimulatedSupplier } from './supplier.js';
import { Ticker } from './ticker.js';

/**
 * A supplier that still sends files: every `intervalMs` it drops an X12 856 into a folder the
 * hub's file connector watches, written under a `.tmp` name and renamed when complete, as
 * partner transfer tools do. The ASN data comes from the same generator as its API traffic.
 */
export class SupplierFileDrop {
  dropped = 0;
  private readonly ticker: Ticker;
  private controlNumber = 500_000;

  constructor(
    private readonly supplier: SimulatedSupplier,
    private readonly dir: string,
    private readonly options: { supplierId: string; receiver?: string; intervalMs?: number },
  ) {
    mkdirSync(dir, { recursive: true });
    this.ticker = new Ticker(options.intervalMs ?? 20_000, async () => this.dropNext());
  }

  /** Writes one ASN file; returns its path. */
  dropNext(): string {
    const asn = this.supplier.nextAsn();
    const text = buildX12Asn(asn, {
      sender: this.options.supplierId,
      receiver: this.options.receiver ?? 'CONVEYOR',
      controlNumber: ++this.controlNumber,
      preparedAt: new Date(),
    });
    const file = join(this.dir, `${asn.asnId}.edi`);
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
    this.dropped++;
    return file;
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }
}
