/**
 * The sensors' time control on the desktop: play/pause, speed, a step slider over the day, the date,
 * "now" for a live source, the current time and the colour legend. Native buttons, inputs and a range
 * slider, so it works with the keyboard (Tab, Space, arrow keys) and screen readers.
 */
import { onLanguageChange, t } from '../ui/i18n.js';
import { legend } from './ramp.js';

const STYLE = `
#sensors { left: 50%; transform: translateX(-50%); bottom: 28px; padding: 6px 10px; max-width: 400px; }
#sensors h2 { font-size: 1em; margin: 0 0 4px; }
#sensors .row { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 3px 0; }
#sensors input[type=range] { flex: 1; min-width: 140px; }
#sensors .legend { display: flex; gap: 2px; align-items: center; font-size: 12px; }
#sensors .legend span { display: inline-block; min-width: 30px; text-align: center; padding: 1px 2px; }
#sensors .kinds { font-size: 12px; }
`;

export class SensorsPanel {
  /**
   * @param {HTMLElement} root the #ui element
   * @param {{onToggle: () => void, onSpeed: () => void, onStep: (index: number) => void, onDate: (date: string) => void,
   *   onNow: () => void, onPrev: () => void, onNext: () => void}} h callbacks
   */
  constructor(root, h) {
    document.head.append(Object.assign(document.createElement('style'), { textContent: STYLE }));
    this.el = document.createElement('section');
    this.el.id = 'sensors';
    this.el.setAttribute('aria-labelledby', 'sensors-title');
    this.el.hidden = true;
    this.el.innerHTML = `<h2 id="sensors-title"></h2>
      <div class="row"><button id="sensors-play" type="button"></button>
        <button id="sensors-prev" type="button">◀</button><button id="sensors-next" type="button">▶</button>
        <button id="sensors-speed" type="button"></button>
        <label><span class="date-label"></span> <input id="sensors-date" type="date" /></label>
        <button id="sensors-now" type="button" hidden></button></div>
      <div class="row"><input id="sensors-step" type="range" min="0" max="95" step="1" value="0" />
        <output id="sensors-time" for="sensors-step" aria-live="off"></output></div>
      <div class="legend" aria-hidden="true"></div><p class="kinds"></p>`;
    const q = (sel) => this.el.querySelector(sel);
    this.playButton = q('#sensors-play');
    this.speedButton = q('#sensors-speed');
    this.slider = q('#sensors-step');
    this.dateInput = q('#sensors-date');
    this.nowButton = q('#sensors-now');
    this.timeOut = q('#sensors-time');
    this.playButton.addEventListener('click', () => h.onToggle());
    this.speedButton.addEventListener('click', () => h.onSpeed());
    q('#sensors-prev').addEventListener('click', () => h.onPrev());
    q('#sensors-next').addEventListener('click', () => h.onNext());
    this.slider.addEventListener('input', () => h.onStep(Number(this.slider.value)));
    this.dateInput.addEventListener('change', () => this.dateInput.value && h.onDate(this.dateInput.value));
    this.nowButton.addEventListener('click', () => h.onNow());
    root.append(this.el);
    this.state = { playing: false, speed: 4, max: 1, label: '', live: false };
    this._off = onLanguageChange(() => this.render());
    this.render();
  }

  /**
   * Update what is shown.
   * @param {{playing?: boolean, speed?: number, index?: number, steps?: number, label?: string, date?: string,
   *   range?: {min: string, max: string}, max?: number, live?: boolean, unit?: string}} state
   */
  set(state) {
    Object.assign(this.state, state);
    const s = this.state;
    if (state.steps !== undefined) this.slider.max = String(Math.max(0, s.steps - 1));
    if (state.index !== undefined) this.slider.value = String(s.index);
    if (state.date !== undefined) this.dateInput.value = s.date;
    if (state.range) {
      this.dateInput.min = s.range.min;
      this.dateInput.max = s.range.max;
    }
    this.render();
  }

  render() {
    const s = this.state;
    const q = (sel) => this.el.querySelector(sel);
    q('#sensors-title').textContent = t('sensors.title');
    this.playButton.textContent = s.playing ? `❚❚ ${t('sensors.pause')}` : `▶ ${t('sensors.play')}`;
    this.playButton.setAttribute('aria-pressed', String(s.playing));
    this.speedButton.textContent = `×${s.speed}`;
    this.speedButton.setAttribute('aria-label', t('sensors.speed', { n: s.speed }));
    q('#sensors-prev').setAttribute('aria-label', t('sensors.prev'));
    q('#sensors-next').setAttribute('aria-label', t('sensors.next'));
    q('.date-label').textContent = t('sensors.date');
    this.slider.setAttribute('aria-label', t('sensors.step'));
    this.slider.setAttribute('aria-valuetext', s.label);
    this.nowButton.textContent = t('sensors.now');
    this.nowButton.hidden = !s.live;
    this.timeOut.textContent = s.label;
    q('.legend').replaceChildren(
      Object.assign(document.createElement('span'), { textContent: t('sensors.legend') }),
      ...legend(s.max).map(({ value, colour }) => {
        const span = document.createElement('span');
        span.style.background = colour;
        span.textContent = String(value);
        return span;
      }),
    );
    q('.kinds').textContent = t('sensors.kinds');
  }

  dispose() {
    this._off?.();
    this.el.remove();
  }
}
