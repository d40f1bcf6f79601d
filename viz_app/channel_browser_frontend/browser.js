// Channel x time browser of one flow layer (see viz_app/channel_browser.py). The page gets every channel and
// step once (int16 flows, one step size per channel); a slider change recolours the panels here and swaps the
// figure's three layout images, so browsing never calls the server and plotly redraws only those images.
// The cells are coloured by flowpaint.js (viz_app/frontend_common), as repflow.flowviz colours them.
"use strict";

const view = {meta: null, codes: null, channel: 0, step: 0, digest: null, loading: null, ready: null, start: null,
              scale: null, order: null, orderName: "motion energy",
              switches: 0, lastSwitch: null, payload: null, buildMs: null, builtAt: null};
window.repflowBrowser = view;  // read by viz_app/benchmark.py and the browser test

const $ = (id) => document.getElementById(id);

function post(type, data) {
  window.parent.postMessage({isStreamlitMessage: true, type, ...data}, "*");
}

function field(channel, step) {
  const [, steps, height, width] = view.meta.shape;
  const cells = height * width;
  const quant = view.meta.quant[channel];
  const base = (channel * steps + step) * cells * 2;
  const u = new Float64Array(cells), v = new Float64Array(cells), mag = new Float64Array(cells);
  for (let i = 0; i < cells; i++) {
    u[i] = view.codes[base + 2 * i] * quant;
    v[i] = view.codes[base + 2 * i + 1] * quant;
    mag[i] = Math.sqrt(u[i] * u[i] + v[i] * v[i]);
  }
  return {u, v, mag};
}

const canvas = document.createElement("canvas");
const context = canvas.getContext("2d");

function pictures(flow, scale) {  // the direction and speed colours of one field, one pixel per cell (flowpaint.js)
  const [, , height, width] = view.meta.shape, cells = height * width;
  const palette = {wheel: view.meta.wheel, speed_colours: view.meta.speed_colours};
  canvas.width = width; canvas.height = height;
  return ["direction", "magnitude"].map((colouring) => {
    const rgb = repflowPaint.colourCells(flow.u, flow.v, cells, scale,
                                        {colouring, still_fraction: view.meta.still_fraction}, palette);
    context.putImageData(new ImageData(repflowPaint.toRgba(rgb, cells), width, height), 0, 0);
    return canvas.toDataURL();
  });
}

function number(value) {
  return value >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}

function colourBar(scale) {
  if (scale === view.scale) return;
  view.scale = scale;
  const ticks = $("ticks");
  ticks.replaceChildren();
  if (!(scale > 0)) {
    ticks.append(Object.assign(document.createElement("span"), {textContent: "0 (still)", style: "bottom: 0%"}));
    return;
  }
  const raw = scale / 5, power = 10 ** Math.floor(Math.log10(raw));
  const spacing = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  for (let value = 0; value <= scale * (1 - 0.12); value += spacing) {  // leave room for the scale's own label
    ticks.append(Object.assign(document.createElement("span"),
      {textContent: number(value), style: `bottom: ${100 * value / scale}%`}));
  }
  ticks.append(Object.assign(document.createElement("span"),
    {textContent: `≥ ${number(scale)}`, style: "bottom: 100%; font-weight: bold"}));
}

function labels(channel, step, scale) {
  const m = view.meta, [channels, steps] = m.shape;
  const rank = order().indexOf(channel) + 1;
  $("channel-label").textContent =
    `${m.channel_labels[channel]} (${channel + 1} of ${channels}; rank ${rank} by ${view.orderName})`;
  $("step-label").textContent = `step ${step} (${steps} steps, from 0) · ${m.step_labels[step]}`;
  $("shown").textContent = `${m.layer} · ${m.channel_labels[channel]} · step ${step} (${m.step_labels[step]})`;
  $("scale").textContent = number(scale);
  const cell = m.cell_px ? ` One cell = ${m.cell_px} input pixels.` : "";
  $("scale-text").textContent = ` ${m.units} = ${m.scale_text}; ` +
    `cells under ${Math.round(m.still_fraction * 100)} % of it are white.${cell}`;
  colourBar(scale);
}

function show(channel, step, startedAt) {
  if (!view.meta) return undefined;  // a slider moved before the first layer arrived
  const m = view.meta, scale = m.scales[channel][step];
  const flow = field(channel, step);
  const [direction, speed] = pictures(flow, scale);
  view.channel = channel; view.step = step; view.current = {...flow, scale, images: [direction, speed]};
  labels(channel, step, scale);
  const update = {"images[1].source": direction, "images[2].source": speed};
  if (m.frames.length) update["images[0].source"] = m.frames[step];
  // Painted: the promise resolves once the figure's DOM is updated; the animation frame after it is the paint
  // that shows it, and a task queued from that frame's callback runs after the paint.
  return Plotly.relayout($("plot"), update).then(() => new Promise((resolve) => requestAnimationFrame(
    () => setTimeout(() => {
      view.switches += 1;
      view.lastSwitch = {channel, step, startedAt, paintedAt: performance.now()};
      resolve();
    }, 0))));
}

function order() {  // the page's channel ranking, else the layer's motion-energy order
  return view.order || (view.meta ? view.meta.energy_order : []);
}

function channelAt(position) {
  return $("by-rank").checked ? order()[position] : position;
}

function positionOf(channel) {
  return $("by-rank").checked ? order().indexOf(channel) : channel;
}

function select(channel, step, startedAt = performance.now()) {
  $("channel").value = positionOf(channel);
  $("step").value = step;
  return show(channel, step, startedAt);
}

function hover(event) {
  const point = event.points[0];
  if (!point) return;
  const width = view.meta.shape[3], x = Math.round(point.x), y = Math.round(point.y), i = y * width + x;
  const {u, v, mag} = view.current;
  const values = `u ${u[i].toFixed(4)}, v ${v[i].toFixed(4)}, |u| ${mag[i].toFixed(4)}`;
  $("readout").textContent = `${view.meta.channel_labels[view.channel]}, step ${view.step}, ` +
    `cell (x ${x}, y ${y}): ${values} ${view.meta.units}`;
  const tip = $("tooltip");
  tip.textContent = `cell (x ${x}, y ${y})\nu ${u[i].toFixed(4)}\nv ${v[i].toFixed(4)}\n|u| ${mag[i].toFixed(4)}`;
  tip.style.display = "block";
  const {clientX, clientY} = event.event;  // beside the pointer, on the side with room
  const right = clientX + 14 + tip.offsetWidth > window.innerWidth;
  const below = clientY + 14 + tip.offsetHeight <= window.innerHeight;
  tip.style.left = `${right ? clientX - 14 - tip.offsetWidth : clientX + 14}px`;
  tip.style.top = `${below ? clientY + 14 : clientY - 14 - tip.offsetHeight}px`;
}

function load(file) {  // the layer's data file, see pack() in viz_app/channel_browser.py
  return fetch(file).then((response) => {
    if (!response.ok) throw new Error(`${response.status} for ${file}`);
    return response.arrayBuffer();
  }).then((buffer) => {
    const length = new DataView(buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
    return {...header, flows: new Uint8Array(buffer, 4 + length), bytes: buffer.byteLength};
  });
}

// This frame shares its main thread with the page: work the page's own change does not wait for (reading
// plotly.js, following the page's new channel or step) runs once the page is idle, after the explorer's main
// panels, placed before the browser, are painted.
function idle() {
  return new Promise((resolve) => (window.requestIdleCallback || ((callback) => setTimeout(callback, 50)))(
    resolve, {timeout: 1000}));
}

let plotlyLoaded = null;
function plotly() {  // plotly.js (about 3.5 MB), read once
  if (!plotlyLoaded) {
    plotlyLoaded = idle().then(() => new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "plotly.min.js";
      script.onload = resolve;
      script.onerror = () => reject(new Error("plotly.js could not be loaded"));
      document.head.appendChild(script);
    }));
  }
  return plotlyLoaded;
}

function build(args) {
  if (args.meta.digest !== view.loading) return Promise.resolve();  // a newer layer was asked for meanwhile
  const began = performance.now();
  view.payload = {flows: args.flows.byteLength, meta: JSON.stringify(args.meta).length, figure: args.figure.length,
                  file: args.bytes};
  view.meta = args.meta;
  view.codes = new Int16Array(args.flows.buffer, args.flows.byteOffset, args.flows.byteLength / 2);
  view.digest = args.meta.digest;
  view.scale = null;
  const [channels, steps] = view.meta.shape;
  $("channel").max = channels - 1;
  $("step").max = steps - 1;
  $("step").disabled = steps < 2;
  $("bar-title").textContent = `|u| (${view.meta.units})`;
  const bar = $("bar").getContext("2d"), lut = view.meta.speed_colours;
  lut.forEach((colour, level) => {
    bar.fillStyle = `rgb(${colour.join(",")})`;
    bar.fillRect(0, 255 - level, 1, 1);
  });
  const figure = JSON.parse(args.figure);
  const gd = $("plot");
  const config = {responsive: true, displaylogo: false, scrollZoom: true,
                  modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  return Plotly.newPlot(gd, figure.data, figure.layout, config).then(() => {
    gd.on("plotly_hover", hover);
    gd.on("plotly_unhover", () => { $("tooltip").style.display = "none"; });
    view.start = null;
    view.buildMs = performance.now() - began;
    view.builtAt = performance.now();  // since this frame began loading (plotly.js included)
  });
}

let frameHeight = null;
function fitHeight() {  // tell the page this frame's height when it changed (each message re-renders the page)
  const height = document.documentElement.scrollHeight;
  if (height !== frameHeight) {
    frameHeight = height;
    post("streamlit:setFrameHeight", {height});
  }
}

function render(args) {
  const start = {channel: args.channel, step: args.step};
  const reordered = JSON.stringify(args.order || null) !== JSON.stringify(view.order);
  view.order = args.order || null;
  view.orderName = args.order_name || "motion energy";
  $("order-name").textContent = view.orderName;
  if (args.digest !== view.loading) {  // a new layer: fetch its file once; later renders wait for the same figure
    view.loading = args.digest;
    view.ready = Promise.all([load(args.file), plotly()]).then(([data]) => build(data)).catch((error) => {
      $("status").textContent = `The layer's flows could not be loaded (${error.message}): reload the page.`;
      throw error;
    });
  }
  view.ready.then(() => {
    if (view.digest !== args.digest) return undefined;  // a newer layer replaced this one while it loaded
    const key = `${start.channel}/${start.step}`;
    if (view.start !== key) {  // a new selection in the page moves the view; a plain rerun leaves it
      view.start = key;
      const switches = view.switches;  // a slider moved meanwhile: the user's own view stays
      return idle().then(() => (view.start === key && view.switches === switches
        ? select(start.channel, start.step) : undefined));
    }
    if (reordered && view.current) {  // a new ranking: the slider and the rank follow it, the view stays
      $("channel").value = positionOf(view.channel);
      labels(view.channel, view.step, view.current.scale);
    }
  }).then(fitHeight);
}

$("channel").addEventListener("input",
  (event) => show(channelAt(Number(event.target.value)), view.step, event.timeStamp));
$("step").addEventListener("input", (event) => show(view.channel, Number(event.target.value), event.timeStamp));
$("by-rank").addEventListener("change", () => { $("channel").value = positionOf(view.channel); });
// The one message to the server the browser sends, on request: the page's controls take over this view.
$("use").addEventListener("click", () => post("streamlit:setComponentValue", {
  value: {channel: view.channel, step: view.step, request: Date.now()}, dataType: "json"}));
window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "streamlit:render") render(event.data.args);
});
new ResizeObserver(fitHeight).observe(document.body);
post("streamlit:componentReady", {apiVersion: 1});
