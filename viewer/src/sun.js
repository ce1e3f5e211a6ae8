/**
 * Pure sun position (no three.js): the NOAA "General Solar Position" algorithm, as used in NOAA's
 * solar calculator spreadsheet (Meeus-based series, about 0.01 deg between 1901 and 2099).
 *
 * Angles in and out are degrees; times are JS Dates (absolute instants, so the caller's time zone
 * never enters the computation). Azimuth is clockwise from north.
 */
import { enuToWorld } from './geo.js';

const DEG = Math.PI / 180;

/** Julian centuries since J2000.0 for an instant. */
export function julianCentury(date) {
  const jd = date.getTime() / 86400000 + 2440587.5;
  return (jd - 2451545.0) / 36525.0;
}

/**
 * Solar declination and equation of time at an instant.
 * @param {Date} date
 * @returns {{declination: number, equationOfTime: number}} degrees and minutes
 */
export function solarCoordinates(date) {
  const t = julianCentury(date);
  const l0 = (((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360) + 360) % 360;
  const m = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const c =
    Math.sin(m * DEG) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
    Math.sin(2 * m * DEG) * (0.019993 - 0.000101 * t) +
    Math.sin(3 * m * DEG) * 0.000289;
  const omega = 125.04 - 1934.136 * t;
  const apparentLong = l0 + c - 0.00569 - 0.00478 * Math.sin(omega * DEG);
  const meanObliquity = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const obliquity = meanObliquity + 0.00256 * Math.cos(omega * DEG);
  const declination = Math.asin(Math.sin(obliquity * DEG) * Math.sin(apparentLong * DEG)) / DEG;
  const y = Math.tan((obliquity / 2) * DEG) ** 2;
  const eqRad =
    y * Math.sin(2 * l0 * DEG) -
    2 * e * Math.sin(m * DEG) +
    4 * e * y * Math.sin(m * DEG) * Math.cos(2 * l0 * DEG) -
    0.5 * y * y * Math.sin(4 * l0 * DEG) -
    1.25 * e * e * Math.sin(2 * m * DEG);
  return { declination, equationOfTime: (4 * eqRad) / DEG };
}

/**
 * Atmospheric refraction (NOAA's piecewise fit for standard conditions).
 * @param {number} elevation geometric elevation in degrees
 * @returns {number} correction in degrees, to be added to the elevation
 */
export function refraction(elevation) {
  if (elevation > 85) return 0;
  const te = Math.tan(elevation * DEG);
  let arcsec;
  if (elevation > 5) arcsec = 58.1 / te - 0.07 / te ** 3 + 0.000086 / te ** 5;
  else if (elevation > -0.575)
    arcsec = 1735 + elevation * (-518.2 + elevation * (103.4 + elevation * (-12.79 + elevation * 0.711)));
  else arcsec = -20.772 / te;
  return arcsec / 3600;
}

/**
 * Apparent sun position seen from a place at an instant.
 * @param {Date} date
 * @param {number} lat degrees north
 * @param {number} lon degrees east
 * @returns {{azimuth: number, elevation: number, zenith: number, hourAngle: number,
 *   declination: number, equationOfTime: number}} degrees (azimuth from north, clockwise), minutes
 */
export function sunPosition(date, lat, lon) {
  const { declination, equationOfTime } = solarCoordinates(date);
  const utcMinutes =
    date.getUTCHours() * 60 + date.getUTCMinutes() + date.getUTCSeconds() / 60 + date.getUTCMilliseconds() / 60000;
  const trueSolarTime = (((utcMinutes + equationOfTime + 4 * lon) % 1440) + 1440) % 1440;
  let hourAngle = trueSolarTime / 4 - 180;
  if (hourAngle < -180) hourAngle += 360;
  const cosZenith =
    Math.sin(lat * DEG) * Math.sin(declination * DEG) +
    Math.cos(lat * DEG) * Math.cos(declination * DEG) * Math.cos(hourAngle * DEG);
  const zenithGeom = Math.acos(Math.max(-1, Math.min(1, cosZenith))) / DEG;
  const elevation = 90 - zenithGeom + refraction(90 - zenithGeom);
  // Azimuth from the spherical triangle; the sign of the hour angle picks morning or afternoon.
  const denom = Math.cos(lat * DEG) * Math.sin(zenithGeom * DEG);
  let azimuth;
  if (Math.abs(denom) < 1e-9) {
    azimuth = lat > 0 ? 180 : 0;
  } else {
    const cosAz = (Math.sin(lat * DEG) * Math.cos(zenithGeom * DEG) - Math.sin(declination * DEG)) / denom;
    const a = Math.acos(Math.max(-1, Math.min(1, cosAz))) / DEG;
    azimuth = hourAngle > 0 ? (a + 180) % 360 : (540 - a) % 360;
  }
  return { azimuth, elevation, zenith: 90 - elevation, hourAngle, declination, equationOfTime };
}

/**
 * Sunrise, solar noon and sunset on the UTC calendar day of `date`, iterated twice so the
 * declination and equation of time are taken at the event itself.
 * @param {Date} date any instant of the day (UTC date is used)
 * @param {number} lat degrees
 * @param {number} lon degrees east
 * @returns {{sunrise: Date|null, noon: Date, sunset: Date|null}} null in polar day or night
 */
export function sunTimes(date, lat, lon) {
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const at = (minutes) => new Date(day + minutes * 60000);
  const noonAt = (guess) => 720 - 4 * lon - solarCoordinates(at(guess)).equationOfTime;
  const noon = noonAt(noonAt(720 - 4 * lon));
  const event = (sign) => {
    let minutes = noon;
    for (let i = 0; i < 3; i++) {
      const { declination, equationOfTime } = solarCoordinates(at(minutes));
      const cosHa =
        Math.cos(90.833 * DEG) / (Math.cos(lat * DEG) * Math.cos(declination * DEG)) -
        Math.tan(lat * DEG) * Math.tan(declination * DEG);
      if (cosHa < -1 || cosHa > 1) return null;
      const ha = Math.acos(cosHa) / DEG;
      minutes = 720 - 4 * (lon + sign * ha) - equationOfTime;
    }
    return at(minutes);
  };
  return { sunrise: event(1), noon: at(noon), sunset: event(-1) };
}

/**
 * Unit vector towards the sun in local ENU.
 * @param {number} azimuth degrees clockwise from north
 * @param {number} elevation degrees above the horizon
 * @returns {[number, number, number]} east, north, up
 */
export function sunDirectionEnu(azimuth, elevation) {
  const ce = Math.cos(elevation * DEG);
  return [ce * Math.sin(azimuth * DEG), ce * Math.cos(azimuth * DEG), Math.sin(elevation * DEG)];
}

/**
 * Unit vector towards the sun in viewer world axes (+X west, +Y up, +Z north).
 * @param {Date} date
 * @param {number} lat degrees
 * @param {number} lon degrees
 * @returns {[number, number, number]}
 */
export function sunDirectionWorld(date, lat, lon) {
  const { azimuth, elevation } = sunPosition(date, lat, lon);
  return enuToWorld(sunDirectionEnu(azimuth, elevation));
}
