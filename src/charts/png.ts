/**
 * SVG to PNG with resvg (a Rust renderer shipped as prebuilt npm binaries: no browser, nothing downloaded at run
 * time). Text uses the system's fonts; on a host without any, the chart still renders, without its labels.
 */
import { Resvg } from '@resvg/resvg-js';

/** PNG files start with these eight bytes. */
export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function svgToPng(svg: string): Uint8Array {
  const renderer = new Resvg(svg, {
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return new Uint8Array(renderer.render().asPng());
}
