/**
 * Canonical ASN data of two partner samples, read by hand from the files: what the mappers (and the
 * hub's ASN endpoint, before it sets the supplier) must produce, field by field.
 */
import type { SupplierAsnData } from './asn-types.js';

/**
 * X12 856 Example1: BSN~00~123456~20010420~1421, DTM~011~20010420~1421, N1~SF~ACME~ZZ~ACME ELECT00 (no
 * N104 qualifier 92, so N104 is the id), N1~ST~…~1~201495124, PRF~123456 at the order level, three
 * items with LIN qualifier CB and SN1 in PC and LB.
 */
export const EXAMPLE1_ASN: SupplierAsnData = {
  asnId: '123456',
  supplierId: 'ACME ELECT00',
  plant: '201495124',
  shipDate: '2001-04-20',
  documentDate: '2001-04-20',
  purchaseOrder: '123456',
  lines: [
    {
      material: '1234-123456',
      quantity: { value: 16, uom: 'H87' },
      lineNumber: '001',
      purchaseOrder: '123456',
      productIds: [{ qualifier: 'CB', id: '1234-123456' }],
    },
    {
      material: '1234-654321',
      quantity: { value: 23, uom: 'LBR' },
      lineNumber: '002',
      purchaseOrder: '123456',
      productIds: [{ qualifier: 'CB', id: '1234-654321' }],
    },
    {
      material: '1234-223456',
      quantity: { value: 16, uom: 'H87' },
      lineNumber: '004',
      purchaseOrder: '123456',
      productIds: [{ qualifier: 'CB', id: '1234-223456' }],
    },
  ],
};

/**
 * EDIFACT D.96A DESADV: BGM+351+Y02197250 (document number), DTM+11:20160726:102 (despatch date),
 * NAD+SU+1694901, NAD+BY+01131116 and no delivery party, two LIN with PIA+5 item numbers (no type
 * code), IMD free-form descriptions, QTY+12:1 without a unit, and RFF+LI / RFF+ON per line.
 */
export const D96A_DESADV_ASN: SupplierAsnData = {
  asnId: 'Y02197250',
  supplierId: '1694901',
  plant: '01131116',
  shipDate: '2016-07-26',
  lines: [
    {
      material: '9780738507330',
      quantity: { value: 1, uom: 'EA' },
      lineNumber: '001',
      purchaseOrder: '6877871',
      purchaseOrderLine: '6877871',
      description: 'MUNCIE THE MIDDLE',
      productIds: [{ id: '9780738507330' }],
    },
    {
      material: '9781568361871',
      quantity: { value: 1, uom: 'EA' },
      lineNumber: '002',
      purchaseOrder: '6905456',
      purchaseOrderLine: '6905456',
      description: 'ROADS TO SATA A 2',
      productIds: [{ id: '9781568361871' }],
    },
  ],
};
