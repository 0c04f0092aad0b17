import { useState } from 'preact/hooks';
import { get } from '../api';
import { Badge, JsonView, ProblemBox, Section, type Tone } from '../components/ui';
import { time } from '../format';
import { useLoad } from '../hooks';
import { Link } from '../router';
import type { DeadLetter, StoredEvent, Trace, TraceDelivery } from '../types';

const STATE_TONE: Record<TraceDelivery['state'], Tone> = {
  done: 'ok',
  pending: 'warn',
  'dead-lettered': 'bad',
  'filtered-out': 'idle',
};

const DOMAIN_COLOR: Record<string, string> = {
  production: '#2563eb',
  quality: '#b45309',
  inventory: '#0d9488',
  logistics: '#7c3aed',
  supplier: '#db2777',
  maintenance: '#4b5563',
  telemetry: '#64748b',
};

const domainOf = (type: string) => type.split('.')[0] ?? '';

/** The events on a time axis, so gaps and bursts show at a glance. */
function TimelineAxis(props: { events: readonly StoredEvent[] }) {
  const times = props.events.map((e) => Date.parse(e.time)).filter((t) => !Number.isNaN(t));
  if (times.length === 0) return null;
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = Math.max(1, last - first);
  const width = 1000;
  const x = (t: number) => 40 + ((t - first) / span) * (width - 80);
  return (
    <svg class="timeline-axis" viewBox={`0 0 ${width} 70`} role="img" aria-label="Events over time">
      <line x1="40" y1="40" x2={width - 40} y2="40" class="axis" />
      <text x="40" y="64" class="axis-label">
        {time(new Date(first).toISOString())}
      </text>
      <text x={width - 40} y="64" class="axis-label" text-anchor="end">
        {time(new Date(last).toISOString())}
      </text>
      {props.events.map((e, i) => {
        const t = Date.parse(e.time);
        if (Number.isNaN(t)) return null;
        return (
          <g key={e.sequence}>
            <circle cx={x(t)} cy="40" r="7" fill={DOMAIN_COLOR[domainOf(e.type)] ?? '#334155'}>
              <title>{`${e.type} at ${e.time}`}</title>
            </circle>
            <text x={x(t)} y={i % 2 === 0 ? 22 : 14} class="axis-label" text-anchor="middle">
              {i + 1}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function Attempts(props: { id: string }) {
  const entry = useLoad((s) => get<DeadLetter>(`/v1/dlq/${encodeURIComponent(props.id)}`, s), [props.id]);
  if (entry.error) return <ProblemBox problem={entry.error} what="Dead letter" />;
  if (!entry.data) return <p class="muted">Loading attempts…</p>;
  return (
    <table class="compact">
      <thead>
        <tr>
          <th>Attempt</th>
          <th>At</th>
          <th>Status</th>
          <th>Error</th>
          <th class="num">ms</th>
        </tr>
      </thead>
      <tbody>
        {entry.data.attempts.map((a, i) => (
          <tr key={`${a.at}-${i}`}>
            <td>{i + 1}</td>
            <td>{time(a.at)}</td>
            <td>{a.status ?? '–'}</td>
            <td class="wrap">{a.error ?? '–'}</td>
            <td class="num">{a.ms}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Delivery(props: { delivery: TraceDelivery }) {
  const [open, setOpen] = useState(false);
  const d = props.delivery;
  return (
    <li class="delivery">
      <span class="delivery-route">{d.route}</span> <span class="muted">→ {d.sink}</span>{' '}
      <Badge tone={STATE_TONE[d.state]}>{d.state}</Badge>
      {d.deadLetter && (
        <>
          {' '}
          <span class="muted small">
            {d.deadLetter.reason}, {d.deadLetter.status}
          </span>{' '}
          <button type="button" class="link" onClick={() => setOpen(!open)}>
            {open ? 'hide attempts' : 'show attempts'}
          </button>{' '}
          <Link href={`/dlq?id=${encodeURIComponent(d.deadLetter.id)}`}>open in DLQ</Link>
          {open && <Attempts id={d.deadLetter.id} />}
        </>
      )}
    </li>
  );
}

/** Every event of one business object and where each went, as a timeline. */
export function TraceView(props: { subject: string }) {
  const trace = useLoad(
    (s) => get<Trace>(`/v1/trace/${encodeURIComponent(props.subject)}`, s),
    [props.subject],
    5_000,
  );
  const [shown, setShown] = useState<number | null>(null);
  return (
    <div class="view">
      <div class="view-head">
        <h1>
          Trace <code>{props.subject}</code>
        </h1>
        <p class="muted">
          Every event with this subject in log order, and each route's delivery.{' '}
          <Link href="/events">Back to events</Link>
        </p>
      </div>
      {trace.error && !trace.data && <ProblemBox problem={trace.error} what="Trace" />}
      {trace.data && (
        <Section
          title={`${trace.data.items.length} events`}
          note={trace.data.truncated ? 'only the first 1,000 are shown' : undefined}
        >
          <TimelineAxis events={trace.data.items.map((i) => i.event)} />
          <ol class="timeline" data-testid="trace-timeline">
            {trace.data.items.map(({ event, deliveries }, i) => (
              <li key={event.sequence} class="timeline-item">
                <span
                  class="timeline-dot"
                  style={{ background: DOMAIN_COLOR[domainOf(event.type)] ?? '#334155' }}
                />
                <div class="timeline-head">
                  <span class="timeline-n">{i + 1}</span>
                  <strong class="event-type">{event.type}</strong>
                  <span class="muted">
                    {time(event.time)} · seq {event.sequence}
                    {event.plant ? ` · ${event.plant}` : ''} · {event.source}
                  </span>
                  <button
                    type="button"
                    class="link"
                    onClick={() => setShown(shown === event.sequence ? null : event.sequence)}
                  >
                    {shown === event.sequence ? 'hide JSON' : 'JSON'}
                  </button>
                </div>
                {deliveries.length > 0 ? (
                  <ul class="deliveries">
                    {deliveries.map((d) => (
                      <Delivery key={d.route} delivery={d} />
                    ))}
                  </ul>
                ) : (
                  <p class="muted small">No route takes this type.</p>
                )}
                {shown === event.sequence && <JsonView value={event} label="Event JSON" />}
              </li>
            ))}
          </ol>
        </Section>
      )}
    </div>
  );
}
