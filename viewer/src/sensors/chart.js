/**
 * A station's chart, drawn by uPlot: the day's profile (counts per 15 minutes, the current step marked)
 * and the week's daily totals, with the day's total and peak hour. On the desktop it is a dialog; in VR
 * its canvases are copied onto the headset board (vr.js).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { language, t } from '../ui/i18n.js';
import { addDays, localMidnight } from './time.js';

const WIDTH = 420;
const HEIGHT = 170;
const STYLE = `
#sensor-chart { right: 8px; top: var(--toolbar-bottom, 96px); width: 440px; max-height: 80vh; overflow: auto; padding: 8px 10px; }
#sensor-chart h2 { font-size: 1.05em; margin: 0 0 4px; }
#sensor-chart h3 { font-size: 0.95em; margin: 6px 0 2px; }
#sensor-chart p { margin: 2px 0; }
#sensor-chart-close { float: right; }
`;

/**
 * The facts under the title: the day's total and peak hour, from the summary's day entry.
 * @param {object|null} dayEntry summary `days[i]` of the shown date
 * @returns {{total: number|null, peakHour: number|null, peak: number|null}}
 */
export function dayFacts(dayEntry) {
  return { total: dayEntry?.total ?? null, peakHour: dayEntry?.peak_hour ?? null, peak: dayEntry?.peak ?? null };
}

/**
 * uPlot options of one chart: a time axis in the source's zone labelled in the visitor's language
 * (`format`: Intl options, 24-hour clock), counts from zero, one series.
 */
function chartOptions(tz, series, format) {
  const fmt = new Intl.DateTimeFormat(language(), { timeZone: tz, hourCycle: 'h23', ...format });
  return {
    width: WIDTH,
    height: HEIGHT,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
    legend: { show: false },
    axes: [{ values: (u, splits) => splits.map((ts) => fmt.format(new Date(ts * 1000))) }, {}],
    scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    series: [{}, series],
  };
}

export class StationChart {
  /**
   * @param {HTMLElement} root the #ui element
   * @param {() => void} onClose
   */
  constructor(root, onClose) {
    document.head.append(Object.assign(document.createElement('style'), { textContent: STYLE }));
    this.el = document.createElement('aside');
    this.el.id = 'sensor-chart';
    this.el.setAttribute('role', 'dialog');
    this.el.setAttribute('aria-labelledby', 'sensor-chart-title');
    this.el.hidden = true;
    this.el.innerHTML = `<button id="sensor-chart-close" type="button">×</button><h2 id="sensor-chart-title"></h2>
      <p class="facts"></p><h3 class="day-title"></h3><div class="day"></div><h3 class="week-title"></h3><div class="week"></div>`;
    this.el.querySelector('#sensor-chart-close').addEventListener('click', onClose);
    this.el.addEventListener('keydown', (e) => e.key === 'Escape' && onClose());
    root.append(this.el);
    this.day = null;
    this.week = null;
    this.shown = null;
  }

  /**
   * Show a station.
   * @param {{name: string, kind: string}} station
   * @param {{date: string, starts: number[], sums: (number|null)[], summary: object, tz: string, unit: string}} data
   */
  show(station, data) {
    const { date, starts, sums, summary, tz } = data;
    const entry = (summary?.days ?? []).find((d) => d.date === date) ?? null;
    const facts = dayFacts(entry);
    this.el.querySelector('#sensor-chart-close').setAttribute('aria-label', t('panel.close'));
    this.el.querySelector('h2').textContent = `${t(`sensors.kind.${station.kind}`)}: ${station.name}`;
    this.el.querySelector('.facts').textContent = [
      t('sensors.total', { n: facts.total ?? '–', date }),
      facts.peakHour === null ? t('sensors.noPeak') : t('sensors.peak', { from: `${facts.peakHour}:00`, to: `${facts.peakHour + 1}:00`, n: facts.peak }),
    ].join(' · ');
    this.el.querySelector('.day-title').textContent = t('sensors.dayProfile');
    this.el.querySelector('.week-title').textContent = t('sensors.week');
    this.day?.destroy();
    this.week?.destroy();
    const dayOptions = chartOptions(tz, { label: t('sensors.count'), stroke: '#c62828', fill: 'rgba(198, 40, 40, 0.15)', width: 2, spanGaps: false }, { hour: '2-digit', minute: '2-digit' });
    dayOptions.scales.x = { time: true, range: () => [localMidnight(date, tz), localMidnight(addDays(date, 1), tz)] };
    this.day = new uPlot(
      dayOptions,
      [starts, sums],
      this.el.querySelector('.day'),
    );
    // The seven days up to the shown one, a gap where there is no count.
    const totals = new Map((summary?.days ?? []).map((d) => [d.date, d.total]));
    const week = Array.from({ length: 7 }, (_, i) => addDays(date, i - 6));
    const weekOptions = chartOptions(tz, { label: t('sensors.dailyTotal'), stroke: '#1565c0', fill: 'rgba(21, 101, 192, 0.4)', paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false } }, { weekday: 'short', day: 'numeric' });
    weekOptions.scales.x = { time: true, range: () => [localMidnight(week[0], tz), localMidnight(addDays(date, 1), tz)] };
    this.week = new uPlot(
      weekOptions,
      [week.map((d) => localMidnight(d, tz) + 43_200), week.map((d) => totals.get(d) ?? null)],
      this.el.querySelector('.week'),
    );
    this.shown = { station, date, facts, days: totals.size };
    this.el.hidden = false;
  }

  /**
   * Mark the current step on the day's profile.
   * @param {number|null} ts UNIX s
   */
  mark(ts) {
    if (!this.day || ts === null) return;
    const idx = this.day.data[0].indexOf(ts);
    if (idx >= 0) this.day.setCursor({ left: this.day.valToPos(ts, 'x'), top: this.day.valToPos(this.day.data[1][idx] ?? 0, 'y') });
  }

  /** @returns {HTMLCanvasElement[]} the drawn charts (day, week) */
  canvases() {
    return [this.day, this.week].filter(Boolean).map((u) => u.ctx.canvas);
  }

  hide() {
    this.el.hidden = true;
    this.shown = null;
  }

  dispose() {
    this.day?.destroy();
    this.week?.destroy();
    this.el.remove();
  }
}
