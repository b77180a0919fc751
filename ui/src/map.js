// The map: Cytoscape.js draws the ends grouped by namespace (compound
// nodes), laid out by fCoSE, with one link per ordered pair of ends. A link
// is red when any of its edges would be denied: excluded by the edits, or
// denied by the policies there.
import cytoscape from 'cytoscape';
import fcose from 'cytoscape-fcose';

cytoscape.use(fcose);

// Past this many ends the layout runs in its fast (draft) mode, and the
// map drops labels and edges while it is panned.
const large = 400;

export function createMap(container, model, { onSelect, isRed }) {
  const big = model.nodes.length > large;
  const links = new Map();
  for (const e of model.edges) {
    const key = e.src + '\u0000' + e.dst;
    if (!links.has(key)) links.set(key, { id: 'l' + links.size, src: e.src, dst: e.dst, edges: [] });
    links.get(key).edges.push(e);
  }
  const elements = [];
  const groups = new Set(model.nodes.map((n) => n.group));
  for (const g of groups) elements.push({ group: 'nodes', data: { id: 'group:' + g, label: g }, classes: 'group' });
  for (const n of model.nodes) {
    elements.push({ group: 'nodes', data: { id: n.id, parent: 'group:' + n.group, label: n.kind === 'workload' ? n.name : n.name, kind: n.kind }, classes: n.kind });
  }
  for (const l of links.values()) {
    const ports = l.edges.map((e) => `${e.port}/${e.proto} (${e.count})`).join('\n');
    elements.push({ group: 'edges', data: { id: l.id, source: l.src, target: l.dst, label: ports } });
  }
  const cy = cytoscape({
    container,
    elements,
    style: style(big),
    wheelSensitivity: 0.3,
    minZoom: 0.02,
    maxZoom: 4,
    textureOnViewport: big,
    hideEdgesOnViewport: big,
    pixelRatio: 1,
  });
  const ready = new Promise((resolve) => {
    const layout = cy.layout(layoutOptions(big));
    performance.mark('layout-start');
    layout.one('layoutstop', () => {
      performance.mark('layout-stop');
      recolor();
      cy.fit(undefined, 20);
      requestAnimationFrame(() => requestAnimationFrame(resolve));
    });
    layout.run();
  });
  function recolor() {
    cy.batch(() => {
      for (const l of links.values()) cy.getElementById(l.id).toggleClass('red', l.edges.some(isRed));
    });
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
      cy.batch(() => {
        cy.elements().removeClass('hidden');
        if (!group) return;
        const keep = cy.getElementById('group:' + group).union(cy.nodes(`[parent = "group:${group}"]`));
        const shown = keep.union(keep.connectedEdges()).union(keep.connectedEdges().connectedNodes());
        cy.elements().difference(shown.union(shown.parents())).addClass('hidden');
      });
      cy.fit(cy.elements(':visible'), 20);
    },
    // drawn lists the ends on the map with where they are drawn, for the
    // tests: an end off the canvas or of no size is not drawn.
    drawn() {
      return cy.nodes(':childless').map((n) => {
        const b = n.renderedBoundingBox({ includeLabels: false });
        return { id: n.id(), x: b.x1, y: b.y1, w: b.w, h: b.h, visible: n.visible() };
      });
    },
    links() {
      return cy.edges().map((e) => ({ source: e.source().id(), target: e.target().id(), red: e.hasClass('red') }));
    },
  };
  window.flowpolMap = api;
  return api;
}

// layoutOptions: fCoSE, in draft quality past `large` ends. ?layout=
// chooses another for the first-paint benchmark, which measured them at
// 2,000 workloads: fcose-default (fCoSE at full quality) and cose
// (Cytoscape's own force-directed layout).
function layoutOptions(big) {
  const common = { randomize: true, animate: false, fit: true, padding: 20 };
  switch (new URLSearchParams(location.search).get('layout')) {
    case 'cose':
      return { ...common, name: 'cose', nodeDimensionsIncludeLabels: !big, numIter: 1000 };
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
