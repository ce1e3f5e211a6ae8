/**
 * Facade styles by building usage: which of a few procedural facades a building gets, and its storey
 * height, from its row of the tile's property table (`usage` = OSM building=*, `height`, `levels`,
 * `roof_shape`). Pure logic, no three.js: unit-tested in viewer/test/facade.test.js.
 */

/** Facade classes, in the order of the shader's style table (`FACADE_STYLES`). */
export const FACADE_CLASSES = ['residential', 'commercial', 'industrial', 'church', 'garage', 'other'];

const CLASS_OF = {};
for (const [cls, usages] of Object.entries({
  residential: [
    'house', 'detached', 'semidetached_house', 'semi', 'terrace', 'bungalow', 'residential', 'apartments',
    'dormitory', 'hotel', 'farm', 'cabin', 'hut', 'villa', 'allotment_house',
  ],
  commercial: [
    'commercial', 'retail', 'office', 'supermarket', 'kiosk', 'school', 'kindergarten', 'university',
    'college', 'hospital', 'public', 'civic', 'government', 'train_station', 'transportation', 'fire_station',
  ],
  industrial: [
    'industrial', 'warehouse', 'manufacture', 'hangar', 'barn', 'farm_auxiliary', 'stable', 'sports_hall',
    'sports_centre', 'stadium', 'greenhouse', 'service',
  ],
  church: ['church', 'cathedral', 'chapel', 'mosque', 'synagogue', 'temple', 'religious', 'shrine'],
  garage: ['garage', 'garages', 'carport', 'shed', 'parking', 'roof', 'toilets'],
})) {
  for (const usage of usages) CLASS_OF[usage] = cls;
}

/**
 * Shader style per class, the same order as FACADE_CLASSES: [bay width m, window width share of the
 * bay, window height share of the storey, sill height share of the storey]. Garages draw one wide door
 * on the ground storey; churches tall narrow windows; `other` (untyped `yes`) plain residential rows.
 */
export const FACADE_STYLES = [
  [2.6, 0.45, 0.5, 0.3], // residential: punched windows
  [3.2, 0.7, 0.62, 0.22], // commercial: wide windows, shop fronts below
  [6.0, 0.75, 0.28, 0.55], // industrial: high ribbon windows
  [4.5, 0.3, 0.72, 0.12], // church: tall lancets
  [3.0, 0.8, 0.75, 0.0], // garage: a door per bay on the ground storey
  [2.8, 0.42, 0.48, 0.32], // other
];

/** Storey heights (m) a class has where the tags give no storeys. */
export const DEFAULT_STOREY = { residential: 3.0, commercial: 3.8, industrial: 5.5, church: 9.0, garage: 2.8, other: 3.0 };

/**
 * The facade class of a usage (OSM building=* value).
 * @param {string|null|undefined} usage
 * @returns {string} one of FACADE_CLASSES
 */
export function facadeClass(usage) {
  const key = String(usage ?? '').trim().toLowerCase();
  return CLASS_OF[key] ?? 'other';
}

/**
 * Storey height in metres: the walls (the building's height less a pitched roof, about a third of it
 * for two storeys or so, never more than 4 m) over its tagged storeys, else the class default; kept
 * within 2.4–7 m so a bad tag cannot draw one window across a tower. Churches keep their tall default.
 * @param {Record<string, any>} props a property table row (height, levels, roof_shape, usage)
 * @returns {number}
 */
export function storeyHeight(props) {
  const cls = facadeClass(props?.usage);
  const height = Number(props?.height);
  const levels = Number(props?.levels);
  if (cls === 'church' || !(height > 0) || !(levels >= 1)) return DEFAULT_STOREY[cls];
  const pitched = props.roof_shape && props.roof_shape !== 'flat';
  const walls = pitched ? height - Math.min(4, height / 3) : height;
  return Math.min(7, Math.max(2.4, walls / levels));
}

/**
 * The two numbers the facade shader reads per vertex: [class index, storey height].
 * @param {Record<string, any>} props
 * @returns {[number, number]}
 */
export function facadeParams(props) {
  return [FACADE_CLASSES.indexOf(facadeClass(props?.usage)), storeyHeight(props ?? {})];
}
