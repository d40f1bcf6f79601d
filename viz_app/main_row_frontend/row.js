// The explorer's main row (see viz_app/main_row.py): input frame | every flow layer at the chosen channel and
// step | classical TV-L1 | colour legend, drawn here with flowpaint.js (loaded before this file in the same module)
// from the flows the page got once. A Streamlit components-v2 element: it runs in the page itself. It follows the
// sidebar's controls as they change (reading their values), so a change repaints before the server hears of it;
// each Streamlit run also sends the server's values (args.state), used for any control it cannot read.

const row = {root: null, setState: null, files: "", header: null, loaded: null, codes: null, frames: null, file: null,
             ready: null, server: null, controls: null, choices: null, classical: null, classicalFile: null,
             drawn: null, shown: null, paints: 0, lastPaint: null, error: null, reportShown: false, reported: false,
             frameCache: new Map(), frameViews: []};
window.repflowRow = row;  // read by tools/app_benchmark.py and the browser tests

const $ = (id) => row.root.querySelector(`#${id}`);

function unpack(buffer) {  // a data file, see viz_app/component_files.py pack()
  const length = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  return {header, blob: buffer.slice(4 + length)};
}

function load(file, sent) {  // the file the server sent inside the message (an ArrayBuffer), else fetched
  if (sent) return Promise.resolve(unpack(sent));
  return fetch(row.files + file).then((response) => {
    if (!response.ok) throw new Error(`${response.status} for ${file}`);
    return response.arrayBuffer();
  }).then(unpack);
}

// --- what the sidebar shows ----------------------------------------------------------------------------------

function sidebar() {
  return document.querySelector('[data-testid="stSidebar"]');
}

function readControls() {
  const bar = sidebar(), c = row.controls, found = {};
  if (!bar || !c) return found;
  const input = (label) => bar.querySelector(`input[aria-label="${label}"]`);
  const checked = (label) => {
    const group = bar.querySelector(`[role="radiogroup"][aria-label="${label}"]`);
    const chosen = group && group.querySelector("input:checked");
    return chosen ? Number(chosen.value) : null;
  };
  const channel = bar.querySelector(`input[type="number"][aria-label^="${c.channel}"]`);
  if (channel && /^\d+$/.test(channel.value.trim())) found.channel = Number(channel.value);
  const step = input(c.step);
  if (step && step.value !== "") found.step = Number(step.value);
  const layer = input(c.layer);
  if (layer && layer.value in row.choices.layer) found.layer = row.choices.layer[layer.value];
  for (const name of ["normalisation", "colouring"]) {
    const index = checked(c[name]);
    if (index !== null && row.choices[name][index] !== undefined) found[name] = row.choices[name][index];
  }
  const fixed = input(c.fixed_max);
  if (fixed && Number(fixed.value) > 0) found.fixed_max = Number(fixed.value);
  for (const name of ["arrows", "smooth", "legend"]) {
    const box = input(c[name]);
    if (box) found[name] = box.checked;
  }
  for (const name of ["arrow_spacing", "opacity"]) {
    const slider = input(c[name]);
    if (slider && slider.value !== "") found[name] = Number(slider.value);
  }
  const size = input(c.panel_px);
  if (size && row.choices.panel_px[Number(size.value)] !== undefined) {
    found.panel_px = row.choices.panel_px[Number(size.value)];
  }
  return found;
}

let followed = null, syncQueued = false;
function follow() {  // watch the sidebar (once per sidebar element) and redraw when a control's value changes
  const bar = sidebar();
  if (!bar || bar === followed) return;
  followed = bar;
  new MutationObserver(queueSync).observe(bar, {subtree: true, attributes: true, childList: true,
                                                characterData: true});
  bar.addEventListener("input", queueSync, true);
  bar.addEventListener("change", queueSync, true);
}

function queueSync() {
  if (syncQueued) return;
  syncQueued = true;
  queueMicrotask(() => { syncQueued = false; sync(); });
}

function wanted() {
  if (!row.server) return null;
  const state = {...row.server, ...readControls()};
  const layer = row.header && row.header.layers.find((entry) => entry.name === state.layer);
  if (!layer) return row.server;
  state.channel = Math.min(Math.max(state.channel, 0), layer.shape[0] - 1);
  state.step = Math.min(Math.max(state.step, 0), Math.max(...row.header.layers.map((entry) => entry.shape[1])) - 1);
  return state;
}

function sync() {
  if (!row.header || row.loaded !== row.file) return;  // a new analysis's flows are still on their way
  follow();
  const state = wanted();
  const key = JSON.stringify(state);
  if (key === row.drawn) return;
  try {
    draw(state, key);
  } catch (error) {  // say so in the row rather than keep showing the previous view
    row.error = `${error.name}: ${error.message}`;
    row.drawn = key;
    $("row").replaceChildren(note(400, `The row could not be drawn (${row.error}): reload the page.`, "info error"));
  }
}

// --- drawing --------------------------------------------------------------------------------------------------

function g3(value) {  // Python's format(value, ".3g")
  if (value === 0) return "0";
  const [mantissa, exponent] = value.toExponential(2).split("e").map((part, i) => (i ? Number(part) : part));
  if (exponent < -4 || exponent >= 3) {
    const digits = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
    return `${digits}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const fixed = value.toFixed(Math.max(0, 2 - exponent));
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

function field(layer, channel, step) {
  const [, steps, height, width] = layer.shape, cells = height * width, quant = layer.quant[channel];
  const base = layer.offset / 2 + (channel * steps + step) * cells * 2;
  const u = new Float64Array(cells), v = new Float64Array(cells);
  for (let i = 0; i < cells; i++) {
    u[i] = row.codes[base + 2 * i] * quant;
    v[i] = row.codes[base + 2 * i + 1] * quant;
  }
  return {u, v, height, width};
}

function frame(step) {  // the input crop of a step, RGB (one object per step: flowpaint caches its resized copies)
  if (!row.frameViews[step]) {
    const [, height, width] = row.header.frames_shape, bytes = height * width * 3;
    row.frameViews[step] = {rgb: row.frames.subarray(step * bytes, (step + 1) * bytes), height, width};
  }
  return row.frameViews[step];
}

function canvasOf(rgba, size) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  canvas.style.width = canvas.style.height = `${size}px`;
  canvas.getContext("2d").putImageData(new ImageData(rgba, size, size), 0, 0);
  return canvas;
}

function frameCanvas(step, size) {
  const key = `${step}/${size}`;
  if (!row.frameCache.has(key)) {
    const {rgb, height, width} = frame(step);
    row.frameCache.set(key, repflowPaint.toRgba(repflowPaint.resizeImage(rgb, height, width, size), size * size));
  }
  return canvasOf(row.frameCache.get(key), size);
}

function colourBar(scale, size, units) {  // the speed colours of repflow.flowviz.magnitude_lut, 0 to scale
  const box = document.createElement("div");
  box.className = "bar";
  const canvas = document.createElement("canvas");
  canvas.width = 256; canvas.height = 1;
  const image = new ImageData(256, 1);
  row.header.palette.speed_colours.forEach((colour, level) => {
    image.data.set([...colour, 255], 4 * level);
  });
  canvas.getContext("2d").putImageData(image, 0, 0);
  const ticks = document.createElement("div");
  ticks.className = "ticks";
  for (const [value, text] of [[0, "0"], [scale / 2, g3(scale / 2)], [scale, `≥ ${g3(scale)}`]]) {
    ticks.append(Object.assign(document.createElement("span"), {textContent: text,
                                                                 style: `left: ${(100 * value) / scale}%`}));
  }
  const title = Object.assign(document.createElement("div"), {className: "bar-title", textContent: `|u| (${units})`});
  box.style.width = `${size}px`;
  box.append(canvas, ticks, title);
  return box;
}

function figure(size, content, caption) {
  const element = document.createElement("figure");
  element.style.width = `${size}px`;
  element.append(...content);
  if (caption) element.append(Object.assign(document.createElement("figcaption"), {textContent: caption}));
  return element;
}

function note(size, text, kind = "info") {
  const element = Object.assign(document.createElement("div"), {className: kind, textContent: text});
  element.style.width = `${size}px`;
  element.style.boxSizing = "border-box";
  return element;
}

function styleOf(state) {
  return {colouring: state.colouring, smooth: state.smooth, arrow_spacing: state.arrows ? state.arrow_spacing : 0,
          opacity: state.opacity, still_fraction: row.header.still_fraction};
}

function flowFigure(flow, scale, state, step, caption, units) {
  const size = state.panel_px, under = state.opacity < 1 ? frame(step) : null;
  const rgba = repflowPaint.renderFlow(flow.u, flow.v, flow.height, flow.width, scale, styleOf(state), size, under,
                                       row.header.palette);
  const parts = [canvasOf(rgba, size)];
  if (state.colouring === "magnitude" && scale > 0) parts.push(colourBar(scale, size, units));
  return figure(size, parts, caption);
}

function layerFigure(layer, state) {
  const size = state.panel_px, [channels, steps] = layer.shape, step = state.step;
  const channel = Math.min(state.channel, channels - 1);
  if (step >= steps) return note(size, `${layer.label}: no step ${step} (it compares ${layer.compares} frames)`);
  const scale = {clip: layer.clip_scales[channel], frame: layer.frame_scales[channel][step],
                 fixed: state.fixed_max}[state.normalisation];
  const marker = layer.name === state.layer ? "▶ " : "";
  const caption = `${marker}${layer.label} · ${layer.channel_labels[channel]} · t ${step}: frames ` +
    `${layer.step_labels[step]} · scale ${g3(scale)} ${row.header.units_short}`;
  return flowFigure(field(layer, channel, step), scale, state, step, caption, row.header.units);
}

function classicalFigure(state) {
  const size = state.panel_px, step = state.step, numbers = row.header.frame_numbers;
  if (step + 1 >= row.header.frames_shape[0]) return note(size, "Classical TV-L1 needs a next frame.");
  const data = row.classical;
  const index = data ? step - data.header.first_step : -1;
  if (!data || index < 0 || index >= data.header.shape[0]) {
    return note(size, "Classical TV-L1 (OpenCV) of this step is being computed…");
  }
  const [, height, width] = data.header.shape, cells = height * width, scale = data.header.scales[index];
  const u = new Float64Array(cells), v = new Float64Array(cells);
  for (let i = 0; i < cells; i++) {
    u[i] = data.flows[(index * cells + i) * 2];
    v[i] = data.flows[(index * cells + i) * 2 + 1];
  }
  const caption = `classical TV-L1 (OpenCV) · t ${step}: frames ${numbers[step]}→${numbers[step + 1]} · ` +
    `scale ${g3(scale)} input px/step (this pair)`;
  return flowFigure({u, v, height, width}, scale, state, step, caption, "input pixels per step");
}

function draw(state, key) {
  const began = performance.now();
  const size = state.panel_px, columns = [];
  columns.push(figure(size, [frameCanvas(state.step, size)],
                      `frame ${row.header.frame_numbers[state.step]} (input crop)`));
  for (const layer of row.header.layers) columns.push(layerFigure(layer, state));
  columns.push(classicalFigure(state));
  if (state.legend && state.colouring === "direction") {
    const half = Math.floor(size / 2);
    columns.push(figure(half, [canvasOf(repflowPaint.colourWheel(half, row.header.palette), half)],
                        "direction = hue, speed = saturation, white = still"));
  }
  $("row").replaceChildren(...columns);
  row.drawn = key;
  row.shown = state;
  row.paints += 1;
  const drawMs = performance.now() - began;
  // Painted: a task queued from the next animation frame runs after that frame's paint.
  requestAnimationFrame(() => setTimeout(() => {
    row.lastPaint = {state, key, drawMs, paintedAt: performance.timeOrigin + performance.now()};
    reportShown();
  }, 0));
}

function reportShown() {  // the server waits for the session's first row to be on screen before sending the rest
  if (!row.reportShown || row.reported) return;
  row.reported = true;
  row.setState("shown", true);
}

// --- data and messages ------------------------------------------------------------------------------------------

function loadClassical(file) {  // the window's TV-L1 file appears when the background job is done: wait for it
  row.classicalFile = file;
  if (!file) { row.classical = null; return; }
  const attempt = (delay) => load(file).then(({header, blob}) => {
    if (row.classicalFile !== file) return;
    row.classical = {header, flows: new Float32Array(blob)};
    if (row.shown) draw(row.shown, row.drawn);
  }).catch(() => {
    if (row.classicalFile === file && delay < 60000) setTimeout(() => attempt(delay * 1.5), delay);
  });
  attempt(200);
}

function render(args) {
  row.files = args.files;
  row.server = args.state;
  row.controls = args.controls;
  row.choices = args.choices;
  row.reportShown = args.report_shown;
  if (args.classical !== row.classicalFile) {
    row.classical = null;
    loadClassical(args.classical);
  }
  if (args.file !== row.file) {
    row.file = args.file;
    row.ready = load(args.file, args.data).then(({header, blob}) => {
      if (row.file !== args.file) return;
      const offset = header.frames_offset;
      row.header = header;
      row.codes = new Int16Array(blob, 0, offset / 2);
      row.frames = new Uint8Array(blob, offset);
      row.frameCache.clear();
      row.frameViews = [];
      row.drawn = null;
      row.loaded = args.file;
    }).catch((error) => {
      $("row").replaceChildren(note(400, `The flows could not be loaded (${error.message}): reload the page.`,
                                    "info error"));
      reportShown();
    });
  }
  row.ready.then(sync);
}

export default function mount({data, parentElement, setStateValue}) {  // Streamlit calls it on every run
  if (!data) {  // main_row.load_code: the code is loaded; nothing to draw, and its element takes no room
    const box = (parentElement.host || parentElement).closest('[data-testid="stElementContainer"]');
    if (box) box.style.display = "none";
    return;
  }
  if (parentElement !== row.root) {  // (re)mounted: draw into this element, keeping the data the page has
    row.root = parentElement;
    row.drawn = null;
  }
  row.setState = setStateValue;
  const {header: args, blob} = unpack(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  render({...args, data: blob.byteLength ? blob : null});
}
