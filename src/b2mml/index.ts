/**
 * B2MML (ISA-95 Business To Manufacturing Markup Language) for Conveyor: production schedules and
 * production performances in V0401 or V0600 become canonical production events, and canonical
 * production events become V0600 documents again. Bad input of any kind fails with a {@link B2mmlError}.
 *
 * "The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA International."
 */
export { B2MML_ERROR_CODES, B2mmlError, type B2mmlErrorCode } from './b2mml-error.js';
export {
  type B2mmlWriteOptions,
  PERFORMANCE_EVENT_TYPES,
  type PerformanceEvent,
  type PerformanceEventType,
  productionPerformanceXml,
  productionScheduleXml,
} from './from-canonical.js';
export {
  B2MML_NAMESPACES,
  type B2mmlDocument,
  type B2mmlVersion,
  parseB2mml,
  REPEATING_ELEMENTS,
  type XmlElement,
  type XmlNode,
} from './parse.js';
export {
  type B2mmlHeader,
  type B2mmlMapping,
  type B2mmlToCanonicalOptions,
  b2mmlToCanonical,
  PRODUCTION_EVENT_TYPES,
  type ProductionEvent,
  type ProductionEventType,
} from './to-canonical.js';
