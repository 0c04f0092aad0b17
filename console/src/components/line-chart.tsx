import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly values: ReadonlyArray<number | null>;
  /** Dashed, so two series are told apart without colour. */
  readonly dash?: boolean;
}

/** A time-series chart (uPlot, drawn on a canvas); `times` in seconds since the epoch. */
export function LineChart(props: {
  title: string;
  times: readonly number[];
  series: readonly ChartSeries[];
  unit: string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');

  // Rebuilt only when the set of series changes; data updates go through setData below.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 180,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [
        { stroke: '#4b5563', grid: { stroke: '#e5e7eb' } },
        { stroke: '#4b5563', grid: { stroke: '#e5e7eb' }, label: props.unit, size: 56 },
      ],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(s.dash ? { dash: [6, 4] } : {}),
          points: { show: false },
        })),
      ],
    };
    plot.current = new uPlot(options, [[], ...props.series.map(() => [])] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 180 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([props.times as number[], ...props.series.map((s) => s.values as number[])]);
  });

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}
