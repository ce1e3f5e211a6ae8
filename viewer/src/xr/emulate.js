/**
 * Test and development only: install IWER's emulated Meta Quest 3 as the page's WebXR runtime.
 * main.js imports this module dynamically behind `?xr=emulate`, so production bundles never load it.
 */
import { XRDevice, metaQuest3 } from 'iwer';

/**
 * @returns {XRDevice} the emulated headset (tests drive its controllers)
 */
export function installEmulator() {
  const device = new XRDevice(metaQuest3);
  // Chromium has a native navigator.xr without hardware; forceInstall replaces it.
  device.installRuntime({ forceInstall: true });
  return device;
}
