/**
 * The Chromium the browser suite drives: whether it is installed (when it is not, the suites
 * skip with a warning, or fail when MARGINKIT_REQUIRE_BROWSER is set, as in CI), and a headless
 * launch of it.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Whether {@link CHROMIUM} exists; run the suites with `describe.runIf(available)`. */
export const available = existsSync(CHROMIUM);

/** WebGL and WebGPU on SwiftShader (no GPU on these machines): the flags both GPU suites launch with. */
export const SWIFTSHADER_GPU_FLAGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];
if (!available) {
  const message = `browser suite: ${CHROMIUM} is missing (apt-get install chromium); these tests need it`;
  if (process.env['MARGINKIT_REQUIRE_BROWSER']) throw new Error(message);
  console.warn(`\n*** ${message}. They are skipped here; CI installs Chromium and runs them. ***\n`);
}

/** Launches headless {@link CHROMIUM} with no sandbox, first-run UI or background traffic, plus `args`. */
export function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args],
  });
}
