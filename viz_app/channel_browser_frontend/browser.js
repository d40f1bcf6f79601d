// Channel x time browser of one flow layer (see viz_app/channel_browser.py). The page gets every channel and
// step once (int16 flows, one step size per channel); a slider change recolours the panels here and updates the
// plotly figure, so browsing never calls the server. Colours follow the Middlebury colour wheel (Baker et al.,
// ICCV 2007) exactly as repflow.flowviz draws them, with cells under a fraction of the scale drawn white.
"use strict";

const view = {meta: null, codes: null, channel: 0, step: 0, digest: null, ready: null, start: null,
              method: "update", revision: 0, switches: 0, lastSwitch: null};
window.repflowBrowser = view;  // read by viz_app/benchmark.py and the browser test

const $ = (id) => document.getElementById(id);

function post(type, data) {
  window.parent.postMessage({isStreamlitMessage: true, type, ...data}, "*");
}

function decode(bytes) {
  const copy = bytes.slice();  // own, aligned buffer
  return new Int16Array(copy.buffer, 0, copy.byteLength / 2);
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

function wheelColour(u, v, mag, scale) {
  if (!(scale > 0) || mag < view.meta.still_fraction * scale) return [255, 255, 255];
  const wheel = view.meta.wheel, n = wheel.length;
  const x = u / scale, y = v / scale, rad = Math.sqrt(x * x + y * y);
  const fk = (Math.atan2(-y, -x) / Math.PI + 1) / 2 * (n - 1);
  const k0 = Math.floor(fk), k1 = k0 + 1 === n ? 0 : k0 + 1, f = fk - k0;
  return [0, 1, 2].map((i) => {
    let col = (1 - f) * wheel[k0][i] / 255 + f * wheel[k1][i] / 255;
    col = rad <= 1 ? 1 - rad * (1 - col) : col * 0.75;
    return Math.floor(255 * col);
  });
}

function panels(channel, step) {
  const [, , height, width] = view.meta.shape;
  const scale = view.meta.scales[channel][step];
  const {u, v, mag} = field(channel, step);
  const colours = [], speeds = [], text = [];
  for (let y = 0; y < height; y++) {
    const colourRow = [], speedRow = [], textRow = [];
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      colourRow.push(wheelColour(u[i], v[i], mag[i], scale));
      speedRow.push(mag[i]);
      textRow.push(`u ${u[i].toFixed(4)}<br>v ${v[i].toFixed(4)}<br>|u| ${mag[i].toFixed(4)}`);
    }
    colours.push(colourRow); speeds.push(speedRow); text.push(textRow);
  }
  return {scale, colours, speeds, text, u, v, mag};
}

function scaleNumber(value) {
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function labels(channel, step, scale) {
  const m = view.meta, [channels, steps] = m.shape;
  const rank = m.energy_order.indexOf(channel) + 1;
  $("channel-label").textContent =
    `${m.channel_labels[channel]} (${channel + 1} of ${channels}; motion-energy rank ${rank})`;
  $("step-label").textContent = `step ${step} of ${steps - 1} · ${m.step_labels[step]}`;
  $("shown").textContent = `${m.layer} · ${m.channel_labels[channel]} · step ${step} (${m.step_labels[step]})`;
  $("scale").textContent = scaleNumber(scale);
  const cell = m.cell_px ? ` One cell = ${m.cell_px} input pixels.` : "";
  $("scale-text").textContent = ` ${m.units} = ${m.scale_text}; ` +
    `cells under ${Math.round(m.still_fraction * 100)} % of it are white.${cell}`;
}

function show(channel, step, startedAt) {
  const gd = $("plot"), m = view.meta;
  const shown = panels(channel, step);
  view.channel = channel; view.step = step; view.current = shown;
  labels(channel, step, shown.scale);
  const cmax = shown.scale > 0 ? shown.scale : 1;
  const frameTitle = m.frames.length ? m.frame_labels[step] : "(no input frame)";
  let drawn;
  if (view.method === "react") {
    if (m.frames.length) gd.data[0].source = m.frames[step];
    gd.data[1].z = shown.colours; gd.data[1].text = shown.text;
    gd.data[2].z = shown.speeds; gd.data[2].text = shown.text;
    gd.layout.coloraxis.cmax = cmax;
    gd.layout.annotations[0].text = frameTitle;
    gd.layout.meta = {channel, step};
    gd.layout.datarevision = ++view.revision;
    drawn = Plotly.react(gd, gd.data, gd.layout);
  } else {
    const data = {z: [undefined, shown.colours, shown.speeds], text: [undefined, shown.text, shown.text]};
    if (m.frames.length) data.source = [m.frames[step], undefined, undefined];
    const layout = {"coloraxis.cmax": cmax, "annotations[0].text": frameTitle, meta: {channel, step}};
    drawn = Plotly.update(gd, data, layout, [0, 1, 2]);
  }
  // Painted: the promise resolves once the figure's DOM is updated; the animation frame after it is the paint
  // that shows it, and a task queued from that frame's callback runs after the paint.
  return drawn.then(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => {
    view.switches += 1;
    view.lastSwitch = {channel, step, startedAt, paintedAt: performance.now()};
    resolve();
  }, 0))));
}

function channelAt(position) {
  return $("by-energy").checked ? view.meta.energy_order[position] : position;
}

function positionOf(channel) {
  return $("by-energy").checked ? view.meta.energy_order.indexOf(channel) : channel;
}

function select(channel, step, startedAt = performance.now()) {
  $("channel").value = positionOf(channel);
  $("step").value = step;
  return show(channel, step, startedAt);
}

function readout(event) {
  const point = event.points[0];
  if (!point || point.curveNumber === 0) return;
  const width = view.meta.shape[3], x = Math.round(point.x), y = Math.round(point.y), i = y * width + x;
  const {u, v, mag} = view.current;
  $("readout").textContent = `${view.meta.channel_labels[view.channel]}, step ${view.step}, cell (x ${x}, y ${y}): ` +
    `u ${u[i].toFixed(4)}, v ${v[i].toFixed(4)}, |u| ${mag[i].toFixed(4)} ${view.meta.units}`;
}

function build(args) {
  view.meta = args.meta;
  view.codes = decode(args.flows);
  view.digest = args.meta.digest;
  const [channels, steps] = view.meta.shape;
  $("channel").max = channels - 1;
  $("step").max = steps - 1;
  $("step").disabled = steps < 2;
  const figure = JSON.parse(args.figure);
  const gd = $("plot");
  const config = {responsive: true, displaylogo: false, scrollZoom: true,
                  modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  return Plotly.newPlot(gd, figure.data, figure.layout, config).then(() => {
    gd.on("plotly_hover", readout);
    view.start = null;
  });
}

function render(args) {
  const start = args.meta.start;
  if (args.meta.digest !== view.digest) view.ready = build(args);  // later renders wait for the same figure
  view.ready.then(() => {
    const key = `${start.channel}/${start.step}`;
    if (view.start !== key) {  // a new selection in the page moves the view; a plain rerun leaves it
      view.start = key;
      return select(start.channel, start.step);
    }
  }).then(() => post("streamlit:setFrameHeight", {height: document.documentElement.scrollHeight}));
}

$("channel").addEventListener("input",
  (event) => show(channelAt(Number(event.target.value)), view.step, event.timeStamp));
$("step").addEventListener("input", (event) => show(view.channel, Number(event.target.value), event.timeStamp));
$("by-energy").addEventListener("change", () => { $("channel").value = positionOf(view.channel); });
window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "streamlit:render") render(event.data.args);
});
new ResizeObserver(() => post("streamlit:setFrameHeight", {height: document.documentElement.scrollHeight}))
  .observe(document.body);
post("streamlit:componentReady", {apiVersion: 1});
