import { useState } from 'preact/hooks';
import { get, type Page, query } from '../api';
import { Badge, Empty, Pager, Section, Unavailable } from '../components/ui';
import { count, duration, percent, rate, time } from '../format';
import { useCursor, useDebounced, useLoad } from '../hooks';
import { Link } from '../router';
import type {
  AuditEntry,
  Connector,
  Milestone,
  MilestoneSummaryRow,
  OeeRow,
  Overview,
  QualityHold,
  Subscription,
} from '../types';

const PLANT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const REFRESH_MS = 10_000;

function Milestones(props: { plant: string }) {
  const summary = useLoad(
    (s) => get<{ items: MilestoneSummaryRow[] }>('/v1/milestones/summary', s),
    [],
    REFRESH_MS,
  );
  const cursor = useCursor();
  const late = useLoad(
    (s) =>
      get<Page<Milestone>>(
        `/v1/milestones${query({ status: 'late', plant: props.plant, after: cursor.after, limit: 25 })}`,
        s,
      ),
    [props.plant, cursor.after],
    REFRESH_MS,
  );
  if (summary.error && !summary.data)
    return <Unavailable problem={summary.error} feature="Business milestones" />;
  const rows = (summary.data?.items ?? []).filter((r) => !props.plant || r.plant === props.plant);
  return (
    <>
      <Section title="Milestones by type and plant" note="open: running within its time; late: past due">
        {rows.length === 0 ? (
          <Empty>No milestones recorded yet.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Milestone</th>
                <th>Plant</th>
                <th class="num">Open</th>
                <th class="num">Late</th>
                <th class="num">Met</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.name}/${r.plant}`}>
                  <td>{r.name}</td>
                  <td>{r.plant ?? '–'}</td>
                  <td class="num">{count(r.open)}</td>
                  <td class="num">
                    {r.late > 0 ? (
                      <Badge tone="bad">{count(r.late)} late</Badge>
                    ) : (
                      <span class="muted">0</span>
                    )}
                  </td>
                  <td class="num">{count(r.met)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Late milestones" note="each links to the trace of its business object">
        {late.error && <Unavailable problem={late.error} feature="Late milestones" />}
        {late.data && late.data.items.length === 0 && <Empty>Nothing is late.</Empty>}
        {late.data && late.data.items.length > 0 && (
          <table data-testid="late-milestones">
            <thead>
              <tr>
                <th>Milestone</th>
                <th>Object</th>
                <th>Plant</th>
                <th>Due</th>
                <th>Overdue for</th>
              </tr>
            </thead>
            <tbody>
              {late.data.items.map((m) => (
                <tr key={m.id}>
                  <td>{m.name}</td>
                  <td>
                    <Link href={`/trace/${encodeURIComponent(m.correlation)}`}>{m.correlation}</Link>
                  </td>
                  <td>{m.plant}</td>
                  <td title={`started ${time(m.startedAt)}`}>{time(m.dueAt)}</td>
                  <td>
                    <Badge tone="bad">
                      {duration(Math.max(0, (Date.now() - Date.parse(m.dueAt)) / 1000))} late
                    </Badge>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {late.data && (
          <Pager page={cursor.page} next={late.data.next} onNext={cursor.next} onPrevious={cursor.previous} />
        )}
      </Section>
    </>
  );
}

function BlockedShipments() {
  const since = useState(() => new Date(Date.now() - 24 * 3600_000).toISOString())[0];
  const blocked = useLoad(
    (s) => get<Page<AuditEntry>>(`/v1/audit${query({ action: 'shipment.blocked', since, limit: 1000 })}`, s),
    [since],
    REFRESH_MS,
  );
  const recent = [...(blocked.data?.items ?? [])].reverse().slice(0, 15);
  return (
    <Section
      title="Blocked shipments"
      note="confirmations refused by a quality hold, last 24 h, newest first"
    >
      {blocked.error && <Unavailable problem={blocked.error} feature="Blocked shipments (audit trail)" />}
      {blocked.data && recent.length === 0 && <Empty>No shipment was refused.</Empty>}
      {recent.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Shipment</th>
              <th>Plant</th>
              <th>Lots</th>
              <th>Holds</th>
            </tr>
          </thead>
          <tbody>
            {recent.map((e) => {
              const d = (e.detail ?? {}) as { plant?: string; lots?: string[]; holds?: string[] };
              return (
                <tr key={e.position}>
                  <td>{time(e.at)}</td>
                  <td>
                    <Link href={`/trace/${encodeURIComponent(e.target)}`}>{e.target}</Link>
                  </td>
                  <td>{d.plant ?? '–'}</td>
                  <td class="wrap">{(d.lots ?? []).join(', ')}</td>
                  <td class="wrap">
                    {(d.holds ?? []).map((h) => (
                      <Link key={h} class="chip" href={`/trace/${encodeURIComponent(h)}`}>
                        {h}
                      </Link>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Holds(props: { plant: string }) {
  const cursor = useCursor();
  const holds = useLoad(
    (s) =>
      get<Page<QualityHold>>(
        `/v1/quality/holds${query({ status: 'active', plant: props.plant, after: cursor.after, limit: 20 })}`,
        s,
      ),
    [props.plant, cursor.after],
    REFRESH_MS,
  );
  return (
    <Section title="Active quality holds" note="their lots cannot ship">
      {holds.error && <Unavailable problem={holds.error} feature="Quality holds" />}
      {holds.data && holds.data.items.length === 0 && <Empty>No active holds.</Empty>}
      {holds.data && holds.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Hold</th>
              <th>Plant</th>
              <th>Material</th>
              <th>Lots</th>
              <th>Reason</th>
              <th>Placed</th>
            </tr>
          </thead>
          <tbody>
            {holds.data.items.map((h) => (
              <tr key={h.holdId}>
                <td>
                  <Link href={`/trace/${encodeURIComponent(h.holdId)}`}>{h.holdId}</Link>
                </td>
                <td>{h.plant}</td>
                <td>{h.material}</td>
                <td class="wrap">{h.lots.join(', ')}</td>
                <td class="wrap">{h.reason}</td>
                <td>{time(h.placedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {holds.data && (
        <Pager page={cursor.page} next={holds.data.next} onNext={cursor.next} onPrevious={cursor.previous} />
      )}
    </Section>
  );
}

function SupplierBacklog() {
  const data = useLoad(
    async (s) => {
      const [subs, overview, connectors] = await Promise.all([
        get<Page<Subscription>>('/v1/subscriptions', s),
        get<Overview>('/v1/overview', s),
        get<Page<Connector>>('/v1/connectors', s),
      ]);
      return { subs: subs.items, overview, connectors: connectors.items };
    },
    [],
    REFRESH_MS,
  );
  if (data.error && !data.data)
    return (
      <Section title="Supplier backlog">
        <Unavailable problem={data.error} feature="Supplier backlog" />
      </Section>
    );
  const routes = (data.data?.subs ?? []).filter((s) => s.types.some((t) => t.startsWith('supplier.')));
  const open = new Map((data.data?.overview.routes ?? []).map((r) => [r.name, r.dlqOpen]));
  const drops = (data.data?.connectors ?? []).filter(
    (c): c is Extract<Connector, { role: 'source' }> => c.role === 'source' && c.kind === 'files',
  );
  return (
    <Section title="Supplier backlog" note="routes of supplier.* events, and the file-drop sources">
      {routes.length === 0 ? (
        <Empty>No route delivers supplier events.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Route</th>
              <th class="num">Lag</th>
              <th class="num">Retrying keys</th>
              <th class="num">Open DLQ</th>
            </tr>
          </thead>
          <tbody>
            {routes.map((r) => (
              <tr key={r.name}>
                <td>{r.name}</td>
                <td class="num">
                  {count(r.lag.events)} · {duration(r.lag.seconds)}
                </td>
                <td class="num">{count(r.retryingKeys)}</td>
                <td class="num">{count(open.get(r.name) ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {drops.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>File drop</th>
              <th>Health</th>
              <th class="num">Files/messages</th>
              <th class="num">Events</th>
              <th class="num">Dead letters</th>
            </tr>
          </thead>
          <tbody>
            {drops.map((c) => (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td>
                  <Badge tone={c.health.type === 'up' ? 'ok' : c.health.type === 'down' ? 'bad' : 'warn'}>
                    {c.health.type}
                  </Badge>
                </td>
                <td class="num">{count(c.messages)}</td>
                <td class="num">{count(c.events)}</td>
                <td class="num">
                  {c.deadLettered > 0 ? <Badge tone="bad">{count(c.deadLettered)}</Badge> : '0'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Oee(props: { plant: string; hours: number }) {
  const oee = useLoad(
    (s) => {
      const to = Date.now();
      const from = new Date(to - props.hours * 3600_000).toISOString();
      return get<{ items: OeeRow[] }>(
        `/v1/analytics/oee${query({ plant: props.plant, from, to: new Date(to).toISOString() })}`,
        s,
      );
    },
    [props.plant, props.hours],
    REFRESH_MS * 3,
  );
  return (
    <Section
      title="OEE per line"
      note="availability × performance × quality over the range; n/a where a factor cannot be computed"
    >
      {oee.error && <Unavailable problem={oee.error} feature="OEE analytics" />}
      {oee.data && oee.data.items.length === 0 && <Empty>No machine data in this range.</Empty>}
      {oee.data && oee.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Line / equipment</th>
              <th>Plant</th>
              <th class="num">Availability</th>
              <th class="num">Performance</th>
              <th class="num">Quality</th>
              <th>OEE</th>
              <th class="num">Good</th>
              <th class="num">Scrap</th>
              <th class="num">Per hour</th>
            </tr>
          </thead>
          <tbody>
            {oee.data.items.map((r) => (
              <tr key={`${r.plant}/${r.equipmentId}`}>
                <td>{r.equipmentId}</td>
                <td>{r.plant}</td>
                <td class="num">{percent(r.availability)}</td>
                <td class="num">{percent(r.performance)}</td>
                <td class="num">{percent(r.quality)}</td>
                <td>
                  <span class="meter" aria-hidden="true">
                    <span style={{ width: `${Math.round(Math.min(1, r.oee ?? 0) * 100)}%` }} />
                  </span>{' '}
                  {percent(r.oee)}
                </td>
                <td class="num">{count(r.goodCount)}</td>
                <td class="num">{count(r.scrapCount)}</td>
                <td class="num">{rate(r.throughputPerHour)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

/** What operations and plant managers look at: milestones, blocked shipments, holds, suppliers, OEE. */
export function BusinessView() {
  const [plantInput, setPlantInput] = useState('');
  const [hours, setHours] = useState('8');
  const plantText = useDebounced(plantInput.trim(), 400);
  const plantError = plantText && !PLANT.test(plantText) ? 'a plant code is letters, digits, _ or -' : null;
  const plant = plantError ? '' : plantText;
  return (
    <div class="view">
      <div class="view-head">
        <h1>Business</h1>
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            Plant
            <input
              value={plantInput}
              placeholder="all plants"
              aria-invalid={plantError !== null}
              onInput={(e) => setPlantInput((e.target as HTMLInputElement).value)}
            />
          </label>
          {plantError && <span class="field-error">{plantError}</span>}
          <label>
            OEE range
            <select value={hours} onChange={(e) => setHours((e.target as HTMLSelectElement).value)}>
              <option value="1">last hour</option>
              <option value="8">last 8 hours</option>
              <option value="24">last 24 hours</option>
            </select>
          </label>
        </form>
      </div>
      <div class="grid-2">
        <div>
          <Milestones plant={plant} />
        </div>
        <div>
          <Holds plant={plant} />
          <BlockedShipments />
        </div>
      </div>
      <div class="grid-2">
        <Oee plant={plant} hours={Number(hours)} />
        <SupplierBacklog />
      </div>
    </div>
  );
}
