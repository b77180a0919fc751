// The underlay: on a canvas under Cytoscape's, a large map's namespace
// blocks and every link, each a straight line between its ends' centres
// (red and dashed when it would be denied), drawn at the map's pan and zoom
// and again whenever they change. At 2,000 ends and 6,000 links a link as
// a Cytoscape element costs about as much to style and draw in the first
// frame as the whole rest of the page; as a line on a canvas it is a
// moveTo and a lineTo. Cytoscape draws the ends over it, and the links of
// a picked namespace or of the selected end as its own edges.

// The looks of style() in map.js: an edge, a red edge and a block.
const look = {
  link: { color: '#8391a7', width: 1.2, alpha: 0.8 },
  red: { color: '#dc2626', width: 2, alpha: 0.8, dash: [6, 3] },
  block: { fill: 'rgba(243, 245, 249, 0.6)', border: '#9aa5b8', dash: [6, 3], font: 'bold 12px system-ui, sans-serif', text: '#3d4757', minFont: 7 },
};
// A block's padding, as Cytoscape pads a node.
const pad = 10;

// createUnderlay draws blocks ({group, x, y, w, h}, centres and sizes) and
// links ({src, dst, red}) under the map of cy, whose ends start at
// positions (id -> {x, y}) and may be dragged. show(false) clears it while
// the map shows something else than the grid; draw() draws it again, after
// a link's red has changed.
export function createUnderlay(cy, container, blocks, links, positions) {
  const canvas = document.createElement('canvas');
  canvas.style.cssText = 'position: absolute; left: 0; top: 0; pointer-events: none';
  container.prepend(canvas);
  const at = new Map(positions);
  let shown = true;
  let queued = 0;
  const draw = () => {
    cancelAnimationFrame(queued);
    queued = 0;
    paint(canvas, container, shown ? { blocks, links, at, zoom: cy.zoom(), pan: cy.pan() } : null);
  };
  const later = () => {
    if (!queued) queued = requestAnimationFrame(draw);
  };
  cy.on('viewport resize', later);
  cy.on('position', 'node', (ev) => {
    if (!shown) return;
    at.set(ev.target.id(), { ...ev.target.position() });
    later();
  });
  draw();
  return {
    draw,
    show(on) {
      shown = on;
      if (on) for (const id of at.keys()) at.set(id, { ...cy.getElementById(id).position() });
      draw();
    },
  };
}

function paint(canvas, container, what) {
  const w = container.clientWidth;
  const h = container.clientHeight;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  if (!what) return;
  const { zoom, pan } = what;
  ctx.setTransform(zoom, 0, 0, zoom, pan.x, pan.y);
  paintBlocks(ctx, what.blocks, zoom);
  paintLinks(ctx, what.links.filter((l) => !l.red), what.at, look.link);
  paintLinks(ctx, what.links.filter((l) => l.red), what.at, look.red);
}

function paintBlocks(ctx, blocks, zoom) {
  const b = look.block;
  ctx.globalAlpha = 1;
  ctx.lineWidth = 1;
  ctx.setLineDash(b.dash);
  ctx.fillStyle = b.fill;
  ctx.strokeStyle = b.border;
  ctx.beginPath();
  for (const k of blocks) ctx.roundRect(k.x - k.w / 2 - pad, k.y - k.h / 2 - pad, k.w + 2 * pad, k.h + 2 * pad, 8);
  ctx.fill();
  ctx.stroke();
  // Names as Cytoscape's labels: not drawn when they would be too small
  // to read.
  if (12 * zoom < b.minFont) return;
  ctx.font = b.font;
  ctx.fillStyle = b.text;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  for (const k of blocks) ctx.fillText(k.group, k.x, k.y - k.h / 2 - pad - 4, 400);
}

function paintLinks(ctx, links, at, style) {
  if (links.length === 0) return;
  ctx.globalAlpha = style.alpha;
  ctx.lineWidth = style.width;
  ctx.setLineDash(style.dash || []);
  ctx.strokeStyle = style.color;
  ctx.beginPath();
  for (const l of links) {
    const a = at.get(l.src);
    const b = at.get(l.dst);
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
}
