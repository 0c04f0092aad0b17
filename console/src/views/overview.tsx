import { get } from '../api';
import { LineChart } from '../components/line-chart';
import { Badge, circuitTone, Empty, healthTone, ProblemBox, Section, Stat } from '../components/ui';
import { count, duration, rate, time } from '../format';
import { useLoad } from '../hooks';
import { Link } from '../router';
import type { Overview } from '../types';

const REFRESH_MS = 2_000;

/** The live picture: rates, lag, dead letters, circuits and sources, refreshed every 2 s. */
export function OverviewView() {
  const overview = useLoad((signal) => get<Overview>('/v1/overview', signal), [], REFRESH_MS);
  const o = overview.data;
  if (!o)
    return overview.error ? (
      <ProblemBox problem={overview.error} what="Overview" />
    ) : (
      <p class="muted">Loading…</p>
    );
  const times = o.series.map((p) => Date.parse(p.t) / 1000);
  const lagTone = o.lag.seconds > 60 ? 'bad' : o.lag.seconds > 10 ? 'warn' : 'ok';
  return (
    <div class="view">
      <div class="view-head">
        <h1>Overview</h1>
        <p class="muted" data-testid="overview-scope">
          Rates and totals are this hub instance's (<code>{o.instance}</code>), sampled every{' '}
          {o.intervalSeconds} s; other instances keep their own. Updated {time(o.at)}.
        </p>
        {overview.error && <ProblemBox problem={overview.error} what="Last refresh failed" />}
      </div>
      <div class="stats">
        <Stat
          label="Ingest"
          value={rate(o.ingest.perSecond)}
          unit="events/s"
          note={`${count(o.ingest.total)} since start`}
          testId="stat-ingest"
        />
        <Stat
          label="Deliveries"
          value={rate(o.deliveries.perSecond)}
          unit="/s"
          note={`${count(o.deliveries.total)} since start`}
          testId="stat-deliveries"
        />
        <Stat
          label="Failed attempts"
          value={rate(o.deliveries.failedPerSecond)}
          unit="/s"
          tone={o.deliveries.failedPerSecond > 0 ? 'warn' : 'ok'}
          note={`${count(o.deliveries.failedTotal)} since start`}
          testId="stat-failed"
        />
        <Stat
          label="Lag"
          value={count(o.lag.events)}
          unit="events"
          tone={lagTone}
          note={`oldest waiting ${duration(o.lag.seconds)}`}
          testId="stat-lag"
        />
        <Stat
          label="Open dead letters"
          value={count(o.dlqOpen)}
          tone={o.dlqOpen > 0 ? 'bad' : 'ok'}
          note="all routes"
          testId="stat-dlq"
        />
      </div>
      <div class="grid-2">
        <LineChart
          title="Ingest and deliveries, last 10 minutes"
          unit="events/s"
          times={times}
          series={[
            { label: 'ingest', color: '#2563eb', values: o.series.map((p) => p.ingest) },
            { label: 'delivered', color: '#059669', values: o.series.map((p) => p.delivered), dash: true },
          ]}
        />
        <LineChart
          title="Failed delivery attempts, last 10 minutes"
          unit="attempts/s"
          times={times}
          series={[{ label: 'failed', color: '#dc2626', values: o.series.map((p) => p.failed) }]}
        />
      </div>
      <Section
        title="Routes"
        note="lag per route: events not yet finished, and how long the oldest has waited"
      >
        {o.routes.length === 0 ? (
          <Empty>No routes are configured.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Route</th>
                <th>Sink</th>
                <th>State</th>
                <th class="num">Lag (events)</th>
                <th class="num">Lag (time)</th>
                <th class="num">In flight</th>
                <th class="num">Retrying keys</th>
                <th>Circuit</th>
                <th class="num">Open DLQ</th>
              </tr>
            </thead>
            <tbody>
              {o.routes.map((r) => (
                <tr key={r.name}>
                  <td>
                    <Link href={`/subscriptions?route=${encodeURIComponent(r.name)}`}>{r.name}</Link>
                  </td>
                  <td>{r.sink}</td>
                  <td>
                    <Badge tone={healthTone(r.state)}>{r.state}</Badge>
                  </td>
                  <td class="num">{count(r.lag.events)}</td>
                  <td class="num">{duration(r.lag.seconds)}</td>
                  <td class="num">{count(r.inFlight)}</td>
                  <td class="num">{count(r.retryingKeys)}</td>
                  <td>
                    <Badge tone={circuitTone(r.circuit)}>{r.circuit}</Badge>
                  </td>
                  <td class="num">
                    {r.dlqOpen > 0 ? (
                      <Link href={`/dlq?route=${encodeURIComponent(r.name)}`}>{count(r.dlqOpen)}</Link>
                    ) : (
                      '0'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <div class="grid-2">
        <Section title="Circuits per endpoint">
          {o.circuits.length === 0 ? (
            <Empty>No delivery endpoints.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Endpoint</th>
                  <th>State</th>
                  <th>Routes</th>
                </tr>
              </thead>
              <tbody>
                {o.circuits.map((c) => (
                  <tr key={c.endpoint}>
                    <td class="wrap">
                      <code>{c.endpoint}</code>
                    </td>
                    <td>
                      <Badge tone={circuitTone(c.state)}>{c.state}</Badge>
                    </td>
                    <td>{c.routes.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <Section title="Source connectors">
          {o.connectors.length === 0 ? (
            <Empty>No source connectors are configured.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Source</th>
                  <th>Kind</th>
                  <th>Health</th>
                  <th class="num">Events</th>
                  <th class="num">Dead letters</th>
                </tr>
              </thead>
              <tbody>
                {o.connectors.map((c) => (
                  <tr key={c.name}>
                    <td>
                      {c.name}
                      {c.plant && <span class="muted"> · {c.plant}</span>}
                    </td>
                    <td>{c.kind}</td>
                    <td>
                      <Badge tone={healthTone(c.health.type)} title={c.health.reason}>
                        {c.health.type}
                      </Badge>
                      {c.health.reason && <div class="muted small">{c.health.reason}</div>}
                    </td>
                    <td class="num">{count(c.events)}</td>
                    <td class="num">{count(c.deadLettered)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
    </div>
  );
}
