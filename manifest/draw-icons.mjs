/**
 * Draws the Teams app icons, deterministically, from the shapes below:
 *
 *   node manifest/draw-icons.mjs [output folder]     (default: this folder)
 *
 * - color.png: 192x192, full bleed NHS blue, two stacked pictures (images shared between hospitals).
 * - outline.png: 32x32, the same symbol in white on a transparent background (every pixel is
 *   opaque white or fully transparent, as Teams asks of outline icons).
 *
 * The PNGs are committed beside this file; run it again only when the design changes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';

const { PNG } = pngjs;

/** NHS identity colours (https://www.england.nhs.uk/nhsidentity/identity-guidelines/colours/). */
const colours = {
  nhsBlue: [0x00, 0x5e, 0xb8],
  lightBlue: [0x41, 0xb6, 0xe6],
  darkBlue: [0x00, 0x30, 0x87],
  warmYellow: [0xff, 0xb8, 0x1c],
  white: [0xff, 0xff, 0xff],
};

/** Inside a rectangle with rounded corners (x0,y0)-(x1,y1), corner radius r. */
function roundedRect(x0, y0, x1, y1, r) {
  return (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const cx = Math.min(Math.max(x, x0 + r), x1 - r);
    const cy = Math.min(Math.max(y, y0 + r), y1 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
}

function circle(cx, cy, r) {
  return (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** Inside the triangle a-b-c (any winding). */
function triangle(a, b, c) {
  const edge = (p, q, x, y) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  return (x, y) => {
    const d1 = edge(a, b, x, y);
    const d2 = edge(b, c, x, y);
    const d3 = edge(c, a, x, y);
    return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
  };
}

const and = (f, g) => (x, y) => f(x, y) && g(x, y);
const not = (f) => (x, y) => !f(x, y);

/**
 * The colour icon's layers, painted in order, in a 192x192 space. The symbol keeps inside the
 * central 120x120, clear of the edges that Teams rounds off.
 */
const colourLayers = [
  // The picture behind: light blue, up and to the right.
  { colour: colours.lightBlue, shape: roundedRect(74, 38, 156, 112, 10) },
  // The picture in front: a white mount...
  { colour: colours.white, shape: roundedRect(36, 72, 130, 156, 10) },
  // ...holding a scene: dark blue hills under a yellow sun.
  { colour: colours.darkBlue, shape: and(roundedRect(46, 82, 120, 146, 4), triangle([46, 146], [78, 100], [110, 146])) },
  { colour: colours.nhsBlue, shape: and(roundedRect(46, 82, 120, 146, 4), triangle([80, 146], [101, 118], [122, 146])) },
  { colour: colours.warmYellow, shape: circle(100, 98, 9) },
];

/** The outline icon's white pixels, in a 32x32 space (tested at each pixel's centre). */
const outlineShape = (() => {
  // The picture in front: a 2-pixel frame holding a hill and a sun.
  const front = and(roundedRect(2, 10, 23, 30, 1.5), not(roundedRect(4, 12, 21, 28, 0.5)));
  const hill = and(roundedRect(4, 12, 21, 28, 0), triangle([5, 28], [11.5, 18], [18, 28]));
  const sun = circle(16.5, 16.5, 1.6);
  // The picture behind: only its top and right edges show, clear of the front picture's frame.
  const back = and(roundedRect(8, 2, 30, 24, 1.5), not(roundedRect(10, 4, 28, 22, 0.5)));
  const backVisible = and(back, not(roundedRect(0.5, 8.5, 25, 32, 0)));
  return (x, y) => front(x, y) || hill(x, y) || sun(x, y) || backVisible(x, y);
})();

/** The colour icon: every pixel opaque, its colour the average of 4x4 samples (smooth edges). */
function drawColour() {
  const size = 192;
  const samples = 4;
  const png = new PNG({ width: size, height: size, colorType: 6 });
  for (let py = 0; py < size; py += 1) {
    for (let px = 0; px < size; px += 1) {
      const sum = [0, 0, 0];
      for (let sy = 0; sy < samples; sy += 1) {
        for (let sx = 0; sx < samples; sx += 1) {
          const x = px + (sx + 0.5) / samples;
          const y = py + (sy + 0.5) / samples;
          let colour = colours.nhsBlue;
          for (const layer of colourLayers) if (layer.shape(x, y)) colour = layer.colour;
          for (let i = 0; i < 3; i += 1) sum[i] += colour[i];
        }
      }
      const at = (py * size + px) * 4;
      for (let i = 0; i < 3; i += 1) png.data[at + i] = Math.round(sum[i] / (samples * samples));
      png.data[at + 3] = 255;
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

/** The outline icon: opaque white where the symbol is, fully transparent elsewhere. */
function drawOutline() {
  const size = 32;
  const png = new PNG({ width: size, height: size, colorType: 6 });
  for (let py = 0; py < size; py += 1) {
    for (let px = 0; px < size; px += 1) {
      const at = (py * size + px) * 4;
      const on = outlineShape(px + 0.5, py + 0.5);
      png.data[at] = on ? 255 : 0;
      png.data[at + 1] = on ? 255 : 0;
      png.data[at + 2] = on ? 255 : 0;
      png.data[at + 3] = on ? 255 : 0;
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? here);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'color.png'), drawColour());
  fs.writeFileSync(path.join(out, 'outline.png'), drawOutline());
  process.stdout.write(`Wrote ${path.join(out, 'color.png')} and ${path.join(out, 'outline.png')}\n`);
}
