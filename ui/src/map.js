// The map: Cytoscape.js draws the ends grouped by namespace, with one link
// per ordered pair of ends. A link is red when any of its edges would be
// denied: excluded by the edits, or denied by the policies there.
//
// A small map is laid out by fCoSE, each namespace a compound node. Past
// `large` ends fCoSE takes tens of seconds, and compound nodes make every
// style change walk the hierarchy, so a large map is drawn at once on a
// grid: each namespace a block of its ends in name order, drawn as a
// rectangle behind them, the blocks packed in rows (gridPositions). The
// grid's blocks and links are drawn under Cytoscape's ends by the underlay;
// Cytoscape has as edges only the links of the selected end and of a picked
// namespace (syncEdges). Picking a namespace in the filter lays out what it
// shows with fCoSE; all namespaces again restore the grid.
import cytoscape from 'cytoscape';
import fcose from 'cytoscape-fcose';
import { createUnderlay } from './underlay.js';

cytoscape.use(fcose);

// Past this many ends the map is laid out on the grid, and Cytoscape drops
// labels and its edges while it is panned.
const large = 400;

export function createMap(container, model, { onSelect, isRed }) {
  const big = model.nodes.length > large;
  const choice = new URLSearchParams(location.search).get('layout') || (big ? 'grid' : 'fcose');
  const grid = choice === 'grid' ? gridPositions(model.nodes, container) : null;
  const links = linksOf(model, isRed);
  const elements = [];
  if (!grid) {
    for (const g of new Set(model.nodes.map((n) => n.group))) elements.push({ group: 'nodes', data: { id: 'group:' + g, label: g }, classes: 'group' });
  }
  for (const n of model.nodes) {
    const el = { group: 'nodes', data: { id: n.id, group: n.group, label: n.name, kind: n.kind }, classes: n.kind };
    if (grid) el.position = { ...grid.positions.get(n.id) };
    else el.data.parent = 'group:' + n.group;
    elements.push(el);
  }
  if (!grid) for (const l of links.values()) elements.push(edgeOf(l));
  const cy = cytoscape({
    container,
    elements,
    // Not Cytoscape's default, a grid layout of its own, which costs as
    // much as the one run below. The grid knows its extent, so the map
    // need not measure every element to fit it. No positions: each end
    // keeps the one it is made with, where the preset layout would set it
    // once more, each with its events.
    layout: { name: 'preset', fit: false, positions: {} },
    ...(grid ? viewport(grid, container) : {}),
    style: style(big),
    wheelSensitivity: 0.3,
    minZoom: 0.02,
    maxZoom: 4,
    textureOnViewport: big,
    hideEdgesOnViewport: big,
    pixelRatio: 1,
  });
  performance.mark('map-created');
  const underlay = grid && createUnderlay(cy, container, grid.blocks, [...links.values()], grid.positions);
  // The grid's Cytoscape edges: the links of the selected end, and of the
  // namespace picked.
  let selected = '';
  let picked = '';
  function syncEdges() {
    if (!grid) return;
    const want = new Set();
    for (const l of links.values()) {
      if (l.src === selected || l.dst === selected || (picked && (l.srcGroup === picked || l.dstGroup === picked))) want.add(l.id);
    }
    cy.edges().filter((e) => !want.has(e.id())).remove();
    const add = [...links.values()].filter((l) => want.has(l.id) && cy.getElementById(l.id).empty());
    cy.add(add.map(edgeOf));
  }
  const ready = new Promise((resolve) => {
    if (grid) {
      painted(cy).then(resolve);
      return;
    }
    const layout = cy.layout(layoutOptions(choice, big));
    performance.mark('layout-start');
    layout.one('layoutstop', () => {
      performance.mark('layout-stop');
      cy.fit(undefined, 20);
      painted(cy).then(resolve);
    });
    layout.run();
  });
  function recolor() {
    for (const l of links.values()) l.red = l.edges.some(isRed);
    cy.batch(() => {
      for (const e of cy.edges()) e.toggleClass('red', links.get(e.id()).red);
    });
    if (underlay) underlay.draw();
  }
  cy.on('tap', 'node', (ev) => {
    const n = ev.target;
    if (!n.hasClass('group')) onSelect(n.id());
  });
  const api = {
    ready,
    recolor,
    highlight(id) {
      cy.batch(() => {
        selected = id;
        syncEdges();
        cy.elements('.selected, .near').removeClass('selected near');
        const n = cy.getElementById(id);
        n.addClass('selected');
        n.connectedEdges().addClass('near');
      });
    },
    focus(id) {
      const n = cy.getElementById(id);
      cy.animate({ center: { eles: n }, zoom: Math.max(cy.zoom(), 1) }, { duration: 200 });
    },
    filter(group) {
      let shown = cy.elements();
      cy.batch(() => {
        picked = group;
        syncEdges();
        if (selected) cy.getElementById(selected).connectedEdges().addClass('near');
        cy.elements().removeClass('hidden');
        if (grid) cy.nodes().positions((n) => ({ ...grid.positions.get(n.id()) }));
        if (!group) return;
        const keep = cy.nodes().filter((n) => n.data('group') === group);
        shown = keep.union(keep.connectedEdges()).union(keep.connectedEdges().connectedNodes());
        shown = grid ? shown : shown.union(shown.parents()).union(cy.getElementById('group:' + group));
        cy.elements().difference(shown).addClass('hidden');
      });
      if (grid) underlay.show(!group);
      if (grid && !group) {
        cy.viewport(viewport(grid, container));
        return;
      }
      if (grid) shown.layout({ ...layoutOptions('fcose', false), fit: false }).run();
      cy.fit(shown, 20);
    },
    // drawn lists the ends on the map with where they are drawn, for the
    // tests: an end off the canvas or of no size is not drawn.
    drawn() {
      return cy.nodes(':childless').not('.group').map((n) => {
        const b = n.renderedBoundingBox({ includeLabels: false });
        return { id: n.id(), x: b.x1, y: b.y1, w: b.w, h: b.h, visible: n.visible() };
      });
    },
    // links lists the links as drawn: by the underlay on the grid, else by
    // Cytoscape.
    links() {
      if (grid) return [...links.values()].map((l) => ({ source: l.src, target: l.dst, red: l.red }));
      return cy.edges().map((e) => ({ source: e.source().id(), target: e.target().id(), red: e.hasClass('red') }));
    },
  };
  window.flowpolMap = api;
  return api;
}

// linksOf makes one link per ordered pair of ends, keyed by its id, with
// its edges, the namespaces of its ends, and whether it is red.
function linksOf(model, isRed) {
  const group = new Map(model.nodes.map((n) => [n.id, n.group]));
  const byPair = new Map();
  for (const e of model.edges) {
    const key = e.src + '\u0000' + e.dst;
    if (!byPair.has(key)) byPair.set(key, { id: 'l' + byPair.size, src: e.src, dst: e.dst, srcGroup: group.get(e.src), dstGroup: group.get(e.dst), edges: [] });
    byPair.get(key).edges.push(e);
  }
  const links = new Map();
  for (const l of byPair.values()) {
    l.red = l.edges.some(isRed);
    links.set(l.id, l);
  }
  return links;
}

// edgeOf is a link as a Cytoscape edge, red from the start: colouring
// thousands of links after they are made would restyle each of them once
// more before the first frame.
function edgeOf(l) {
  const ports = l.edges.map((e) => `${e.port}/${e.proto} (${e.count})`).join('\n');
  return { group: 'edges', data: { id: l.id, source: l.src, target: l.dst, label: ports }, classes: l.red ? 'red' : '' };
}

// painted resolves once Cytoscape has drawn the map and the browser has
// shown that frame: at the start of the frame after Cytoscape's next render.
// Its render loop asks for that frame only when the render is over, so this
// runs first there, before the texture work Cytoscape does in later frames.
function painted(cy) {
  return new Promise((resolve) => cy.one('render', () => requestAnimationFrame(() => resolve())));
}

// layoutOptions: fCoSE, the layout of a small map (the grid of a large
// one needs none). ?layout= chooses another for the first-paint benchmark,
// which measured them at 2,000 workloads against the grid: fcose-draft
// (fCoSE in its fast mode), fcose-default (at full quality) and cose
// (Cytoscape's own force-directed layout).
function layoutOptions(choice, big) {
  const common = { randomize: true, animate: false, fit: true, padding: 20 };
  switch (choice) {
    case 'cose':
      return { ...common, name: 'cose', nodeDimensionsIncludeLabels: !big, numIter: 1000 };
    case 'fcose-draft':
      big = true;
      break;
    case 'fcose-default':
      big = false;
  }
  return {
    ...common,
    name: 'fcose',
    quality: big ? 'draft' : 'default',
    nodeDimensionsIncludeLabels: !big,
    packComponents: true,
    nodeRepulsion: 6000,
    idealEdgeLength: 80,
    numIter: big ? 500 : 2500,
  };
}

// style: the grid's blocks and links are the underlay's, in its looks.
function style(big) {
  return [
    { selector: 'node', style: {
      label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'text-margin-y': 3, width: 18, height: 18,
      'background-color': '#dbe7ff', 'border-width': 1, 'border-color': '#3b5ba9', 'min-zoomed-font-size': 7,
      'text-max-width': 120, 'text-wrap': 'ellipsis',
    } },
    { selector: 'node.group', style: {
      'background-color': '#f3f5f9', 'background-opacity': 0.6, 'border-color': '#9aa5b8', 'border-style': 'dashed',
      'text-valign': 'top', 'font-size': 12, 'font-weight': 'bold', color: '#3d4757', padding: 10,
    } },
    { selector: 'node.external', style: { shape: 'diamond', 'background-color': '#ffe3b3', 'border-color': '#b7791f' } },
    { selector: 'node.unresolved', style: { shape: 'octagon', 'background-color': '#e5e5e5', 'border-color': '#777', 'border-style': 'dashed' } },
    { selector: 'node.host, node.apiserver', style: { shape: 'round-rectangle', 'background-color': '#d9f2e3', 'border-color': '#2f855a' } },
    { selector: 'node.selected', style: { 'border-width': 3, 'border-color': '#2563eb' } },
    { selector: 'edge', style: {
      width: 1.2, 'line-color': '#8391a7', 'target-arrow-color': '#8391a7', 'target-arrow-shape': big ? 'none' : 'triangle',
      'curve-style': big ? 'haystack' : 'bezier', 'arrow-scale': 0.8, opacity: 0.8,
    } },
    { selector: 'edge.near', style: { width: 2.5, 'line-color': '#2563eb', 'target-arrow-color': '#2563eb', label: 'data(label)', 'font-size': 9, 'text-wrap': 'wrap', 'text-background-color': '#fff', 'text-background-opacity': 0.8 } },
    { selector: 'edge.red', style: { 'line-color': '#dc2626', 'target-arrow-color': '#dc2626', 'line-style': 'dashed', width: 2 } },
    { selector: '.hidden', style: { display: 'none' } },
  ];
}

// The grid's cell: room for an end and its label at full zoom.
const cellW = 90;
const cellH = 50;
// The space between two namespaces' blocks, for the namespace's name.
const gap = 60;

// gridPositions places each group's ends in a block of rows, in the order
// the model sorts them, and packs the blocks in rows whose width makes the
// whole about as wide, for its height, as the container. It returns the
// ends' positions and each block's centre and size.
function gridPositions(nodes, container) {
  const groups = new Map();
  for (const n of nodes) {
    if (!groups.has(n.group)) groups.set(n.group, []);
    groups.get(n.group).push(n.id);
  }
  const blocks = [...groups].map(([group, ids]) => {
    const cols = Math.ceil(Math.sqrt(ids.length));
    return { group, ids, cols, w: cols * cellW, h: Math.ceil(ids.length / cols) * cellH };
  });
  const area = blocks.reduce((a, b) => a + (b.w + gap) * (b.h + gap), 0);
  const aspect = (container.clientWidth || 4) / (container.clientHeight || 3);
  const width = Math.max(Math.sqrt(area * aspect), ...blocks.map((b) => b.w));
  const positions = new Map();
  const placed = [];
  let x = 0;
  let y = 0;
  let row = 0;
  for (const b of blocks) {
    if (x > 0 && x + b.w > width) {
      x = 0;
      y += row + gap;
      row = 0;
    }
    b.ids.forEach((id, i) => positions.set(id, { x: x + (i + 0.5 - Math.floor(i / b.cols) * b.cols) * cellW, y: y + (Math.floor(i / b.cols) + 0.5) * cellH }));
    placed.push({ group: b.group, x: x + b.w / 2, y: y + b.h / 2, w: b.w, h: b.h });
    x += b.w + gap;
    row = Math.max(row, b.h);
  }
  return { positions, blocks: placed, w: Math.max(...placed.map((b) => b.x + b.w / 2)), h: y + row };
}

// viewport is the zoom and pan that fit the grid in the container, with
// room for the namespaces' names above their blocks.
function viewport(grid, container) {
  const pad = 20;
  const top = 30; // a block's name, above it
  const w = container.clientWidth || 800;
  const h = container.clientHeight || 600;
  const zoom = Math.min((w - 2 * pad) / grid.w, (h - 2 * pad) / (grid.h + top), 4);
  return { zoom, pan: { x: (w - grid.w * zoom) / 2, y: (h - (grid.h + top) * zoom) / 2 + top * zoom } };
}
