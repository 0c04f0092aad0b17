/**
 * The demo's business milestones: the reference scenario's SLAs, tightened from hours to seconds so
 * late milestones (and their CRM alerts) show within a minute or two of `npm start`. The MES of
 * plant 2 has an outage every minute, every 25th order is for a material no MES knows (it never
 * starts), and the ERP's postings endpoint closes its ledger for 30 s every 90 s.
 */
export const DEMO_MILESTONES = [
  // The first thing the MES reports for an order is an operation completed.
  {
    name: 'order-started-in-mes',
    start: 'production.order.released',
    end: { type: 'production.operation.completed' },
    correlate: 'subject',
    within: '20s',
  },
  // The MES posts no order completion in the demo; consumptions are what the ERP must book.
  {
    name: 'consumption-posted-to-erp',
    start: 'production.material.consumed',
    end: { delivered: 'erp-postings' },
    correlate: 'subject',
    within: '20s',
  },
  // The QMS decides 8 to 15 s after a hold: some decisions come late.
  {
    name: 'hold-dispositioned',
    start: 'quality.hold.placed',
    end: { type: 'quality.disposition.decided' },
    correlate: 'data.holdId',
    within: '12s',
  },
  {
    name: 'shipment-posted-to-erp',
    start: 'logistics.shipment.confirmed',
    end: { delivered: 'erp-postings' },
    correlate: 'data.shipmentId',
    within: '30s',
  },
  {
    name: 'asn-posted-to-erp',
    start: 'supplier.asn.received',
    end: { delivered: 'erp-postings' },
    correlate: 'data.asnId',
    within: '30s',
  },
];

/** The event types the ERP books (inventory and cost postings). */
export const ERP_POSTING_TYPES = [
  'production.material.consumed',
  'logistics.shipment.confirmed',
  'supplier.asn.received',
];
