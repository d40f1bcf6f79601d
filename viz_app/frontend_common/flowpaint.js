// Flow panels drawn in the browser, pixel for pixel as repflow.flowviz.render_flow draws them in Python, so a
// view can repaint a panel (another channel, step or colour option) without asking the server.
//
// API (window.repflowPaint):
//   renderFlow(u, v, height, width, scale, style, size, frame, palette) -> Uint8ClampedArray RGBA (size*size*4)
//       = flowviz.render_flow(flow, max_magnitude=scale, size=(size, size), style=FlowStyle(...), frame=frame)
//     u, v: the flow's x and y components, row-major arrays of height*width (any numeric array type);
//     scale: the magnitude drawn at full colour (0: every cell still, white);
//     style: {colouring: "direction" | "magnitude", smooth, arrow_spacing (0 = none), opacity, still_fraction};
//     frame: null or {rgb, height, width} (rgb: height*width*3 bytes), shown under the flow when opacity < 1;
//       its resize is kept per rgb array, so pass a new array for new pixels rather than overwriting one;
//     palette: {wheel: flow_vis.make_colorwheel() as [[r, g, b], ...], speed_colours: flowviz.magnitude_lut()}.
//   resizeImage(rgb, height, width, size) -> Uint8ClampedArray RGB (size*size*3) = flowviz.resize_image(image,
//       (size, size)): OpenCV's INTER_AREA when shrinking the height, INTER_LINEAR otherwise, unchanged when equal.
//   colourWheel(size, palette) -> Uint8ClampedArray RGBA (size*size*4) = flowviz.color_wheel(size).
//   colourCells(u, v, count, scale, style, palette) -> Uint8ClampedArray RGB (count*3) = flowviz.colour_flow of
//       count cells, one colour each (still cells white); style: {colouring, still_fraction}.
//   toRgba(rgb, pixels) -> Uint8ClampedArray RGBA, opaque.
//   toImageData(rgba, size) -> ImageData, for a canvas's putImageData.
//
// Every step repeats the arithmetic of the Python side: numpy's float32 steps (Math.fround), its rounding of
// halves to even, and OpenCV 5's resize (nearest: source index floor(x * src / dst); bilinear on float32 flow and
// on uint8 frames with its 11-bit fixed-point weights; area averaging) and addWeighted. The pictures are identical
// except in two ways: the arrows, which a canvas draws close to cv2.arrowedLine but not pixel for pixel, and the
// direction colours where numpy's vectorised float32 arctan2 (a few ulp from the exact angle, which Math.atan2
// gives) tips a colour over a rounding step: rare single values off by 1.
"use strict";

(function () {
  const f32 = Math.fround;
  const PI32 = f32(Math.PI);
  const COEF_SCALE = 2048;  // OpenCV's INTER_RESIZE_COEF_SCALE: bilinear weights of uint8 images in 11 bits
  const TIP_LENGTH = 0.35;  // flowviz.draw_arrows: cv2.arrowedLine(..., tipLength=0.35)

  // numpy's np.round and OpenCV's cvRound: halves go to the even neighbour
  function roundHalfEven(x) {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  function float32Field(values) {
    return values instanceof Float32Array ? values : Float32Array.from(values);
  }

  // ---- colours of cells (flowviz.colour_flow) ----

  // flow_vis.flow_uv_to_colors of one normalised vector (float32 x, y): RGB into out[k..k+2]
  function wheelColour(x, y, wheel, out, k) {
    const n = wheel.length;
    const rad = f32(Math.sqrt(f32(f32(x * x) + f32(y * y))));
    const a = f32(f32(Math.atan2(-y, -x)) / PI32);
    const fk = f32(f32(f32(a + 1) / 2) * (n - 1));
    const k0 = Math.floor(fk), k1 = k0 + 1 === n ? 0 : k0 + 1, f = fk - k0;
    for (let i = 0; i < 3; i++) {
      let col = (1 - f) * (wheel[k0][i] / 255) + f * (wheel[k1][i] / 255);
      col = rad <= 1 ? 1 - rad * (1 - col) : col * 0.75;
      out[k + i] = Math.floor(255 * col);
    }
  }

  // flowviz.colour_flow of count cells (float32 components): RGB (count*3), still cells white
  function colourCells(u, v, count, scale, style, palette) {
    const out = new Uint8ClampedArray(count * 3).fill(255);
    if (!(scale > 0)) return out;
    const still = f32(style.still_fraction * scale);
    const inverse = f32(1 / scale), scale32 = f32(scale);
    const direction = style.colouring !== "magnitude";
    for (let i = 0; i < count; i++) {
      const ui = u[i], vi = v[i];
      const mag = f32(Math.sqrt(f32(f32(ui * ui) + f32(vi * vi))));
      if (mag < still) continue;
      if (direction) {
        wheelColour(f32(ui * inverse), f32(vi * inverse), palette.wheel, out, 3 * i);
      } else {
        const level = Math.min(Math.max(f32(mag / scale32), 0), 1);
        const colour = palette.speed_colours[roundHalfEven(f32(level * 255))];
        out[3 * i] = colour[0]; out[3 * i + 1] = colour[1]; out[3 * i + 2] = colour[2];
      }
    }
    return out;
  }

  // ---- OpenCV's resize ----

  // INTER_NEAREST's source index of each destination index: floor(d * (1 / (dst / src)))
  function nearestIndex(src, dst) {
    const inverse = 1 / (dst / src), index = new Int32Array(dst);
    for (let d = 0; d < dst; d++) index[d] = Math.min(Math.floor(d * inverse), src - 1);
    return index;
  }

  // cv2.resize(..., INTER_NEAREST) of an image with channels values per pixel
  function resizeNearest(image, height, width, channels, size) {
    const rows = nearestIndex(height, size), cols = nearestIndex(width, size);
    const out = new Uint8ClampedArray(size * size * channels);
    for (let y = 0; y < size; y++) {
      const row = rows[y] * width;
      for (let x = 0; x < size; x++) {
        const s = (row + cols[x]) * channels, d = (y * size + x) * channels;
        for (let c = 0; c < channels; c++) out[d + c] = image[s + c];
      }
    }
    return out;
  }

  // INTER_LINEAR's (and, with area, INTER_AREA's when enlarging) first source index and float32 weight of the
  // second for every destination index; edges repeat the border pixel
  function linearTaps(src, dst, area, clampWeight) {
    const scale = 1 / (dst / src), first = new Int32Array(dst), weight = new Float32Array(dst);
    for (let d = 0; d < dst; d++) {
      let s, f;
      if (area) {
        s = Math.floor(d * scale);
        f = f32((d + 1) - (s + 1) * (dst / src));
        f = f <= 0 ? 0 : f32(f - Math.floor(f));
      } else {
        f = f32((d + 0.5) * scale - 0.5);
        s = Math.floor(f);
        f = f32(f - s);
      }
      if (clampWeight && s < 0) { s = 0; f = 0; }
      if (clampWeight && s >= src - 1) { s = src - 1; f = 0; }
      first[d] = s; weight[d] = f;
    }
    return {first, weight};
  }

  const clampIndex = (i, n) => Math.min(Math.max(i, 0), n - 1);

  // cv2.resize(..., INTER_LINEAR) of a float32 plane (OpenCV's own path, taken for the 2-channel flow field)
  function resizeLinearFloat(plane, height, width, size) {
    const xs = linearTaps(width, size, false, true), ys = linearTaps(height, size, false, false);
    const rows = new Float32Array(height * size);
    for (let r = 0; r < height; r++) {
      for (let x = 0; x < size; x++) {
        const s = r * width + xs.first[x], f = xs.weight[x];
        const next = xs.first[x] + 1 < width ? plane[s + 1] : 0;
        rows[r * size + x] = f32(plane[s] * f32(1 - f)) + f32(next * f);
      }
    }
    const out = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      const f = ys.weight[y], b0 = f32(1 - f);
      const r0 = clampIndex(ys.first[y], height) * size, r1 = clampIndex(ys.first[y] + 1, height) * size;
      for (let x = 0; x < size; x++) out[y * size + x] = f32(rows[r0 + x] * b0) + f32(rows[r1 + x] * f);
    }
    return out;
  }

  // cv2.resize(..., INTER_LINEAR) of an RGB uint8 image (area: INTER_AREA's taps when enlarging one axis):
  // 11-bit weights along rows, then OpenCV's vectorised vertical pass ((b0 >> 4) * w0 >> 16 ..., rounded >> 2)
  function resizeLinearBytes(rgb, height, width, size, area) {
    const xs = linearTaps(width, size, area, true), ys = linearTaps(height, size, area, false);
    const w0 = new Int32Array(size), w1 = new Int32Array(size);
    for (let x = 0; x < size; x++) {
      w0[x] = roundHalfEven(f32(1 - xs.weight[x]) * COEF_SCALE); w1[x] = roundHalfEven(xs.weight[x] * COEF_SCALE);
    }
    const rows = new Int32Array(height * size * 3);
    for (let r = 0; r < height; r++) {
      for (let x = 0; x < size; x++) {
        const s = (r * width + xs.first[x]) * 3, s1 = xs.first[x] + 1 < width ? s + 3 : s, d = (r * size + x) * 3;
        for (let c = 0; c < 3; c++) rows[d + c] = rgb[s + c] * w0[x] + rgb[s1 + c] * w1[x];
      }
    }
    const out = new Uint8ClampedArray(size * size * 3);
    for (let y = 0; y < size; y++) {
      const f = ys.weight[y], b0 = roundHalfEven(f32(1 - f) * COEF_SCALE), b1 = roundHalfEven(f * COEF_SCALE);
      const r0 = clampIndex(ys.first[y], height) * size * 3, r1 = clampIndex(ys.first[y] + 1, height) * size * 3;
      for (let i = 0; i < size * 3; i++) {
        out[y * size * 3 + i] = ((((rows[r0 + i] >> 4) * b0) >> 16) + (((rows[r1 + i] >> 4) * b1) >> 16) + 2) >> 2;
      }
    }
    return out;
  }

  // OpenCV's computeResizeAreaTab: which source pixels (with float32 weights) make each destination pixel
  function areaTaps(src, dst) {
    const scale = 1 / (dst / src), taps = [];
    for (let d = 0; d < dst; d++) {
      const start = d * scale, end = start + scale, cell = Math.min(scale, src - start);
      const last = Math.min(Math.floor(end), src - 1), first = Math.min(Math.ceil(start), last);
      if (first - start > 1e-3) taps.push([d, first - 1, f32((first - start) / cell)]);
      for (let s = first; s < last; s++) taps.push([d, s, f32(1 / cell)]);
      if (end - last > 1e-3) taps.push([d, last, f32(Math.min(end - last, 1, cell) / cell)]);
    }
    return taps;
  }

  // cv2.resize(..., INTER_AREA) of an RGB uint8 image shrunk along both axes by a factor that is not whole
  function resizeArea(rgb, height, width, size) {
    const xtaps = areaTaps(width, size), ytaps = areaTaps(height, size);
    const out = new Uint8ClampedArray(size * size * 3);
    const line = new Float32Array(size * 3), sum = new Float32Array(size * 3);
    const store = (row) => { for (let i = 0; i < size * 3; i++) out[row * size * 3 + i] = roundHalfEven(sum[i]); };
    let previous = ytaps[0][0];
    for (const [dy, sy, beta] of ytaps) {
      line.fill(0);
      for (const [dx, sx, alpha] of xtaps) {
        for (let c = 0; c < 3; c++) line[dx * 3 + c] += f32(rgb[(sy * width + sx) * 3 + c] * alpha);
      }
      if (dy !== previous) {
        store(previous);
        for (let i = 0; i < size * 3; i++) sum[i] = f32(beta * line[i]);
        previous = dy;
      } else {
        for (let i = 0; i < size * 3; i++) sum[i] += f32(beta * line[i]);
      }
    }
    store(previous);
    return out;
  }

  // cv2.resize(..., INTER_AREA) shrinking by whole factors: block means, rounded as OpenCV rounds them
  function resizeAreaWhole(rgb, width, factorY, factorX, size) {
    const out = new Uint8ClampedArray(size * size * 3), area = factorX * factorY, weight = f32(1 / area);
    const halving = factorX === 2 && factorY === 2;  // OpenCV's vectorised kernel: (sum + 2) >> 2
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          let total = 0;
          for (let dy = 0; dy < factorY; dy++) {
            for (let dx = 0; dx < factorX; dx++) total += rgb[((y * factorY + dy) * width + x * factorX + dx) * 3 + c];
          }
          out[(y * size + x) * 3 + c] = halving ? (total + 2) >> 2 : roundHalfEven(f32(total * weight));
        }
      }
    }
    return out;
  }

  function resizeImage(rgb, height, width, size) {
    if (height === size && width === size) return Uint8ClampedArray.from(rgb);
    if (height <= size) return resizeLinearBytes(rgb, height, width, size, false);
    if (width < size) return resizeLinearBytes(rgb, height, width, size, true);
    const factorY = 1 / (size / height), factorX = 1 / (size / width);
    const wholeY = Math.round(factorY), wholeX = Math.round(factorX);
    if (Math.abs(factorY - wholeY) < Number.EPSILON && Math.abs(factorX - wholeX) < Number.EPSILON) {
      return resizeAreaWhole(rgb, width, wholeY, wholeX, size);
    }
    return resizeArea(rgb, height, width, size);
  }

  // ---- panels ----

  // cv2.addWeighted(overlay, opacity, base, 1 - opacity, 0): float32 fused multiply-adds, halves to even
  function blendInto(rgba, base, opacity) {
    const alpha = f32(opacity), beta = f32(1 - opacity);
    for (let i = 0, k = 0; k < rgba.length; i += 3, k += 4) {
      for (let c = 0; c < 3; c++) rgba[k + c] = roundHalfEven(f32(rgba[k + c] * alpha + f32(base[i + c] * beta)));
    }
  }

  function toRgba(rgb, pixels) {
    const rgba = new Uint8ClampedArray(pixels * 4);
    for (let i = 0, k = 0; i < pixels * 3; i += 3, k += 4) {
      rgba[k] = rgb[i]; rgba[k + 1] = rgb[i + 1]; rgba[k + 2] = rgb[i + 2]; rgba[k + 3] = 255;
    }
    return rgba;
  }

  function newCanvas(size) {
    if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(size, size);
    return Object.assign(document.createElement("canvas"), {width: size, height: size});
  }

  // flowviz.draw_arrows on the picture: every spacing pixels from spacing // 2, a vector of scale is spacing long
  // (longer ones are cut to it), heads 0.35 of the length at 45 degrees; black 1-pixel antialiased lines
  function drawArrows(rgba, size, fieldU, fieldV, spacing, scale) {
    if (!(scale > 0)) return;
    const canvas = newCanvas(size), context = canvas.getContext("2d");
    context.putImageData(new ImageData(rgba, size, size), 0, 0);
    context.strokeStyle = "#000";
    context.lineWidth = 1;
    context.beginPath();
    const perUnit = f32(spacing / scale);  // numpy multiplies the float32 field by it in float32
    for (let y = spacing >> 1; y < size; y += spacing) {
      for (let x = spacing >> 1; x < size; x += spacing) {
        const u = fieldU[y * size + x], v = fieldV[y * size + x];
        const length = f32(f32(Math.hypot(u, v)) * perUnit);
        if (length < 1) continue;
        const dx = f32(u * perUnit), dy = f32(v * perUnit), shrink = f32(Math.min(length, spacing) / f32(Math.hypot(dx, dy)));
        const tipX = roundHalfEven(x + f32(dx * shrink)), tipY = roundHalfEven(y + f32(dy * shrink));
        const head = Math.hypot(x - tipX, y - tipY) * TIP_LENGTH, angle = Math.atan2(y - tipY, x - tipX);
        context.moveTo(x + 0.5, y + 0.5);
        context.lineTo(tipX + 0.5, tipY + 0.5);
        for (const side of [Math.PI / 4, -Math.PI / 4]) {
          context.moveTo(tipX + 0.5, tipY + 0.5);
          context.lineTo(roundHalfEven(tipX + head * Math.cos(angle + side)) + 0.5,
                         roundHalfEven(tipY + head * Math.sin(angle + side)) + 0.5);
        }
      }
    }
    context.stroke();
    rgba.set(context.getImageData(0, 0, size, size).data);
  }

  // the frame resized to size, kept per frame.rgb array: the panels of a row share their frame
  const resizedFrames = new WeakMap();
  function resizedFrame(frame, size) {
    if (!resizedFrames.has(frame.rgb)) resizedFrames.set(frame.rgb, new Map());
    const sizes = resizedFrames.get(frame.rgb), key = `${frame.height}x${frame.width}->${size}`;
    if (!sizes.has(key)) sizes.set(key, resizeImage(frame.rgb, frame.height, frame.width, size));
    return sizes.get(key);
  }

  function renderFlow(u, v, height, width, scale, style, size, frame, palette) {
    u = float32Field(u); v = float32Field(v);
    let rgba, fieldU = null, fieldV = null;
    if (style.smooth) {
      fieldU = resizeLinearFloat(u, height, width, size); fieldV = resizeLinearFloat(v, height, width, size);
      rgba = toRgba(colourCells(fieldU, fieldV, size * size, scale, style, palette), size * size);
    } else {
      const cells = colourCells(u, v, height * width, scale, style, palette);
      const same = height === size && width === size;
      rgba = toRgba(same ? cells : resizeNearest(cells, height, width, 3, size), size * size);
    }
    if (frame && style.opacity < 1) blendInto(rgba, resizedFrame(frame, size), style.opacity);
    if (style.arrow_spacing) {
      if (!fieldU) {
        const rows = nearestIndex(height, size), cols = nearestIndex(width, size);
        fieldU = new Float32Array(size * size); fieldV = new Float32Array(size * size);
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            fieldU[y * size + x] = u[rows[y] * width + cols[x]]; fieldV[y * size + x] = v[rows[y] * width + cols[x]];
          }
        }
      }
      drawArrows(rgba, size, fieldU, fieldV, style.arrow_spacing, scale);
    }
    return rgba;
  }

  function colourWheel(size, palette) {
    const centre = (size - 1) / 2, rgba = new Uint8ClampedArray(size * size * 4).fill(255);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const u = f32(f32(x - centre) / centre), v = f32(f32(y - centre) / centre);
        if (f32(Math.hypot(u, v)) > 1) continue;
        wheelColour(u, v, palette.wheel, rgba, 4 * (y * size + x));
      }
    }
    return rgba;
  }

  window.repflowPaint = {
    renderFlow, resizeImage, colourWheel, toRgba,
    colourCells: (u, v, count, scale, style, palette) => colourCells(
      float32Field(u), float32Field(v), count, scale, style, palette),
    toImageData: (rgba, size) => new ImageData(rgba, size, size),
  };
})();
