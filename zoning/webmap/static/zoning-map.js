/*
 * zoning map pages: builds the layers, controls and tools of a page from its JSON data.
 *
 * Safety rule of this file: strings from the data are put into the page with textContent.
 * innerHTML (directly, or through Leaflet's tooltips, popups and layer-control labels) is used
 * only for values whose key ends in "_html" (or the "t"/"p" tooltip/popup properties), which
 * zoning.webmap builds in Python from HTML-escaped parts.  No data goes into eval or template
 * literals; the one URL built here (a site's report page) joins a prefix checked in Python
 * (zoning.webmap.escape.safe_url) and an ASCII page name.
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------- GCJ-02 (zoning/crs.py)
  var GCJ_A = 6378245.0;
  var GCJ_EE = 0.00669342162296594323;

  function inChina(lon, lat) {
    return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
  }

  function gcjDelta(lon, lat) {
    if (!inChina(lon, lat)) return [0, 0];
    var x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    var s = Math.sqrt(Math.abs(x));
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * s + common;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * s + common;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radlat = lat / 180.0 * PI;
    var magic = 1.0 - GCJ_EE * Math.sin(radlat) * Math.sin(radlat);
    var sqrtmagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (GCJ_A / sqrtmagic * Math.cos(radlat) * PI);
    return [dlon, dlat];
  }

  function gcjToWgs(lon, lat) {
    // Fixed-point inverse of the forward shift, as zoning.crs.gcj02_to_wgs84 does.
    var d = gcjDelta(lon, lat), wlon = lon - d[0], wlat = lat - d[1];
    for (var i = 0; i < 30; i++) {
      var f = gcjDelta(wlon, wlat);
      var elon = lon - (wlon + f[0]), elat = lat - (wlat + f[1]);
      wlon += elon; wlat += elat;
      if (Math.abs(elon) < 1e-12 && Math.abs(elat) < 1e-12) break;
    }
    return [wlon, wlat];
  }

  function mapCoords(coords, fn) {
    if (typeof coords[0] === "number") {
      var r = fn(coords[0], coords[1]);
      return [round(r[0]), round(r[1])];
    }
    return coords.map(function (c) { return mapCoords(c, fn); });
  }

  function round(v) { return Math.round(v * 1e7) / 1e7; }

  // ---------------------------------------------------------------- helpers
  function el(tag, cls, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }

  function styleOf(spec, props) {
    var key = props && props.c;
    if (key !== undefined && key !== null && spec.styles && spec.styles[key]) {
      return spec.styles[key];
    }
    return spec.style;
  }

  // A layer control that shows a heading above each group of overlays.
  var GroupedLayers = L.Control.Layers.extend({
    _update: function () {
      this._lastGroup = null;
      return L.Control.Layers.prototype._update.call(this);
    },
    _addItem: function (obj) {
      var group = obj.overlay ? obj.layer.zoningGroup : null;
      if (group && group !== this._lastGroup) {
        var h = el("div", "zoning-lc-group", this._overlaysList);
        h.textContent = group;
        this._lastGroup = group;
      }
      return L.Control.Layers.prototype._addItem.call(this, obj);
    }
  });

  function tileLayer(spec) {
    var layers = spec.urls.map(function (u) { return L.tileLayer(u, spec.options); });
    return layers.length === 1 ? layers[0] : L.layerGroup(layers);
  }

  function addPane(map, name, z) {
    var p = map.createPane(name);
    p.style.zIndex = String(z);
    return p;
  }

  // ---------------------------------------------------------------- tools
  function addMeasure(map, cfg) {
    if (!L.Control.Measure) return;
    // leaflet-measure 2.1.7 with Leaflet >= 1.8 (leaflet-measure issue 171; folium does the same).
    L.Control.Measure.include({
      _setCaptureMarkerIcon: function () {
        var m = this._captureMarker;
        m.options.autoPanOnFocus = false;
        // The icon element may be reused by setIcon: drop the focus listener added with it.
        if (m._icon) L.DomEvent.off(m._icon, "focus", m._panOnFocus, m);
        m.setIcon(L.divIcon({ iconSize: this._map.getSize().multiplyBy(2) }));
      }
    });
    // leaflet-measure styles its vertices through their SVG elements (_path): on this canvas
    // map, measure with an SVG renderer, back to canvas once the measurement is done.
    var svg = L.svg();
    map.on("measurestart", function () { map.options.renderer = svg; });
    map.on("measurefinish", function () { delete map.options.renderer; });
    map.addControl(new L.Control.Measure({
      position: "topleft",
      primaryLengthUnit: "meters",
      secondaryLengthUnit: "kilometers",
      primaryAreaUnit: "sqmeters",
      secondaryAreaUnit: "hectares",
      activeColor: "#d7191c",
      completedColor: "#7b3294",
      localization: cfg.lang === "zh" ? "cn" : "en"
    }));
  }

  function addCoordinates(map, cfg) {
    if (!L.control.mousePosition) return;
    var shifted = cfg.shift === "gcj02";
    map.addControl(L.control.mousePosition({
      position: "bottomleft",
      emptyString: "WGS84",
      formatter: function (lng, lat) {
        if (shifted) {
          var w = gcjToWgs(lng, lat);
          lng = w[0]; lat = w[1];
        }
        // Only numbers reach the control (it writes innerHTML).
        return "WGS84 " + Number(lng).toFixed(5) + ", " + Number(lat).toFixed(5);
      }
    }));
  }

  var DRAW_ZH = {
    polyline: "绘制线状场址", polygon: "绘制面状场址", rectangle: "绘制矩形场址",
    circlemarker: "绘制点状场址"
  };

  function addDraw(map, cfg, state) {
    if (!L.Control.Draw) return;
    if (cfg.lang === "zh") {
      var b = L.drawLocal.draw.toolbar.buttons;
      Object.keys(DRAW_ZH).forEach(function (k) { b[k] = DRAW_ZH[k]; });
      L.drawLocal.edit.toolbar.buttons.edit = "编辑图形";
      L.drawLocal.edit.toolbar.buttons.remove = "删除图形";
    }
    var drawn = new L.FeatureGroup();
    map.addLayer(drawn);
    var style = { color: "#e7298a", weight: 3, fillOpacity: 0.15 };
    map.addControl(new L.Control.Draw({
      position: "topleft",
      edit: { featureGroup: drawn },
      draw: {
        polygon: { allowIntersection: false, shapeOptions: style },
        polyline: { shapeOptions: style },
        rectangle: { shapeOptions: style },
        circlemarker: { color: "#e7298a", radius: 7 },
        circle: false,
        marker: false
      }
    }));
    map.on(L.Draw.Event.CREATED, function (e) { drawn.addLayer(e.layer); });

    function exportDrawn() {
      var fc = drawn.toGeoJSON();
      var n = 0;
      fc.features.forEach(function (f) {
        n += 1;
        f.properties = { id: "D" + n };
        if (cfg.shift === "gcj02") {
          f.geometry.coordinates = mapCoords(f.geometry.coordinates, gcjToWgs);
        }
      });
      return JSON.stringify(fc);
    }
    state.exportDrawn = exportDrawn;
    state.drawnItems = drawn;

    var ExportControl = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = el("div", "leaflet-bar zoning-export");
        var a = el("a", null, box);
        a.href = "#";
        a.setAttribute("role", "button");
        a.textContent = "⤓";
        a.title = cfg.ui.export_title;
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.on(a, "click", function (ev) {
          L.DomEvent.preventDefault(ev);
          var text = exportDrawn();
          var blob = new Blob([text], { type: "application/geo+json" });
          var link = el("a");
          link.href = URL.createObjectURL(blob);
          link.download = "sites.geojson";
          document.body.appendChild(link);
          link.click();
          setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
        });
        return box;
      }
    });
    map.addControl(new ExportControl());
  }

  // With no tile reachable (an intranet, no network), switch to the vector basemap once.
  function fallBackWhenUnreachable(map, tiles, vector, cfg) {
    var loaded = 0, failed = 0, done = false;
    var layers = tiles.getLayers ? tiles.getLayers() : [tiles];
    layers.forEach(function (t) {
      t.on("tileload", function () { loaded += 1; });
      t.on("tileerror", function () {
        failed += 1;
        if (!done && loaded === 0 && failed >= 4) {
          done = true;
          map.removeLayer(tiles);
          vector.addTo(map);
          var box = document.querySelector(".zoning-notices");
          if (box) {
            var n = el("div", "zoning-notice zoning-warn", box);
            n.textContent = cfg.ui.tiles_unreachable;
            map.invalidateSize();
          }
        }
      });
    });
  }

  // ---------------------------------------------------------------- screening sites
  // Site features carry plain data (p.s id, p.n name, p.r reasons as [item, feature] index
  // pairs into cfg.sites.reasons_html / cfg.sites.features, p.m reasons left out, p.h the name
  // of the site's report page); popups and tooltips are built from them when opened, so the page
  // holds each reason text once however many sites share it.
  function verdictOf(p) { return String(p.c || "unknown").split(":")[0]; }

  function siteTooltip(S) {
    return function (layer) {
      var p = layer.feature.properties, v = verdictOf(p);
      var box = el("div");
      el("div", "zt-title", box).textContent = p.n || p.s || "";
      el("div", null, box).textContent = S.verdicts[v] || v;
      return box;
    };
  }

  function sitePopup(S) {
    return function (layer) {
      var p = layer.feature.properties, v = verdictOf(p);
      var box = el("div");
      el("div", "zp-title", box).textContent = p.n || p.s || "";
      var idl = el("div", null, box);
      el("span", "zp-k", idl).textContent = S.labels.site_id + ":";
      idl.appendChild(document.createTextNode(" " + (p.s || "")));
      var badge = el("span", "zp-verdict", el("div", null, box));
      badge.style.background = S.colors[v] || "#777";
      badge.textContent = S.verdicts[v] || v;
      if (p.r && p.r.length) {
        var ul = el("ul", null, box);
        p.r.forEach(function (pair) {
          var li = el("li", null, ul);
          li.innerHTML = S.reasons_html[pair[0]]; // built from escaped parts in Python
          if (pair.length > 1) {
            var f = el("div", "zp-feat", li);
            el("span", "zp-k", f).textContent = S.labels.feature + ":";
            f.appendChild(document.createTextNode(" " + S.features[pair[1]]));
          }
        });
      }
      if (p.m) {
        el("div", "zp-more", box).textContent = S.labels.more_before + p.m + S.labels.more_after;
      }
      if (p.h && S.report_prefix !== null) {
        var a = el("a", null, el("div", null, box));
        a.href = S.report_prefix + p.h; // a checked relative URL + an ASCII page name
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = S.labels.open_report;
      }
      return box;
    };
  }

  // Polygon and line sites smaller than MIN_PX on screen are drawn as a verdict-coloured dot
  // at their representative point (p.rp) instead, so that every site shows its verdict at
  // every zoom; zoomed in, the shape comes back.  Dots are made when first needed.
  var MIN_PX = 8;

  function siteMarkers(map, sites, spec, S) {
    var markers = L.featureGroup();
    markers.bindTooltip(siteTooltip(S), { sticky: true, className: "zoning-tooltip" });
    markers.bindPopup(sitePopup(S), { maxWidth: 420, className: "zoning-popup" });
    var items = [];
    sites.eachLayer(function (layer) {
      var p = layer.feature.properties;
      if (!p.rp || !layer.getBounds) return;
      items.push({ layer: layer, marker: null, bounds: layer.getBounds() });
    });
    function dot(it) {
      if (!it.marker) {
        var p = it.layer.feature.properties, v = verdictOf(p);
        it.marker = L.circleMarker([p.rp[1], p.rp[0]], L.extend({ radius: 5 },
          spec.styles[v] || spec.style, { pane: spec.pane || "overlayPane" }));
        it.marker.feature = it.layer.feature;
      }
      return it.marker;
    }
    function update() {
      if (!map.hasLayer(sites)) return;
      items.forEach(function (it) {
        var a = map.latLngToLayerPoint(it.bounds.getSouthWest());
        var b = map.latLngToLayerPoint(it.bounds.getNorthEast());
        var small = Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y)) < MIN_PX;
        if (small) {
          if (!markers.hasLayer(dot(it))) markers.addLayer(it.marker);
          if (it.layer._map) map.removeLayer(it.layer); // stays in its layer, off the map
        } else {
          if (it.marker && markers.hasLayer(it.marker)) markers.removeLayer(it.marker);
          if (!it.layer._map) map.addLayer(it.layer);
        }
      });
    }
    sites.on("add", function () { markers.addTo(map); update(); });
    sites.on("remove", function () { map.removeLayer(markers); });
    map.on("zoomend", update);
    markers.zoningUpdate = update;
    return markers;
  }

  // Ring tooltips: the ring's site and its distance band (p.s, p.a inner, p.b outer metres).
  function ringTooltip(title) {
    return function (layer) {
      var p = layer.feature.properties;
      var fmt = function (x) { return Number(x || 0).toLocaleString("en-US", { maximumFractionDigits: 0 }); };
      var box = el("div");
      el("div", "zt-title", box).textContent = title;
      el("div", null, box).textContent = (p.s || "") + ": " + fmt(p.a) + "–" + fmt(p.b) + " m";
      return box;
    };
  }

  // Sites and rings bind one tooltip and one popup to the whole layer (built for the feature
  // under the pointer when opened): thousands of sites cost no per-feature handlers.
  function overlay(spec, cfg) {
    var S = cfg.sites;
    var isSites = spec.kind === "sites" && S;
    var gj = L.geoJSON(spec.data, {
      pane: spec.pane || "overlayPane",
      style: function (f) { return styleOf(spec, f.properties); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend({ radius: 7 }, styleOf(spec, f.properties)));
      },
      onEachFeature: function (f, layer) {
        if (isSites || spec.kind === "rings") return;
        var p = f.properties || {};
        if (p.t) layer.bindTooltip(p.t, { sticky: true, className: "zoning-tooltip" });
        if (p.p) layer.bindPopup(p.p, { maxWidth: 420, className: "zoning-popup" });
      }
    });
    if (isSites) {
      gj.bindTooltip(siteTooltip(S), { sticky: true, className: "zoning-tooltip" });
      gj.bindPopup(sitePopup(S), { maxWidth: 420, className: "zoning-popup" });
    } else if (spec.kind === "rings") {
      gj.bindTooltip(ringTooltip(spec.tip_title || ""), { sticky: true, className: "zoning-tooltip" });
    }
    return gj;
  }

  // ---------------------------------------------------------------- legend
  // One block per layer (shown only while its layer is on the map) below a fixed part; a
  // button folds it away (folded at load on narrow screens).
  function addLegend(map, cfg, entries, narrow) {
    if (!cfg.legend_html && !entries.length) return null;
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var box = el("div", "zoning-legend");
        var head = el("button", "zoning-legend-toggle", box);
        head.type = "button";
        head.textContent = cfg.ui.legend;
        var body = el("div", "zoning-legend-body", box);
        if (cfg.legend_html) el("div", "lg-fixed", body).innerHTML = cfg.legend_html; // escaped parts
        entries.forEach(function (e) {
          var block = el("div", "lg-layer", body);
          block.innerHTML = e.html; // built from escaped parts in Python
          var update = function () { block.style.display = map.hasLayer(e.layer) ? "" : "none"; };
          e.layer.on("add remove", function () { setTimeout(update, 0); });
          update();
        });
        function setOpen(open) {
          body.style.display = open ? "" : "none";
          head.setAttribute("aria-expanded", open ? "true" : "false");
          box.classList.toggle("zoning-legend-folded", !open);
        }
        setOpen(!narrow);
        L.DomEvent.on(head, "click", function (ev) {
          L.DomEvent.preventDefault(ev);
          setOpen(body.style.display === "none");
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    var legend = new Legend();
    map.addControl(legend);
    return legend;
  }

  // ---------------------------------------------------------------- build
  function build(map, cfg) {
    // Catalog layers are keyed by their catalog id in state.layers; the screening's own layers
    // (sites, markers, pieces, rings) live in state.screening and the vector basemap in
    // state.basemap, so no catalog id can take their place.
    var state = {
      ready: false, counts: {}, layers: {}, screening: {}, screeningCounts: {}, basemap: null,
      map: map, gcjToWgs: gcjToWgs
    };
    window.zoningMap = state;
    // No Leaflet default marker icon (an image path that does not exist in an inline page):
    // markers some plugins add (leaflet-measure's capture marker) get an empty icon instead.
    L.Marker.mergeOptions({ icon: L.divIcon({ className: "zoning-no-icon", iconSize: [0, 0] }) });
    if (cfg.zoom_snap) { map.options.zoomSnap = cfg.zoom_snap; map.options.zoomDelta = cfg.zoom_snap; }

    addPane(map, "zoningBase", 250);
    addPane(map, "zoningRings", 420);
    addPane(map, "zoningPieces", 430);
    addPane(map, "zoningSites", 450);

    var size = map.getSize();
    var narrow = size.x < 700 || size.y < 500;
    state.narrow = narrow;
    if (narrow) document.documentElement.classList.add("zoning-narrow");
    var control = new GroupedLayers(null, null, {
      collapsed: cfg.collapsed || narrow, sortLayers: false
    });

    var activeTiles = null;
    (cfg.tiles || []).forEach(function (spec) {
      var layer = tileLayer(spec);
      control.addBaseLayer(layer, spec.name_html);
      if (spec.active) { layer.addTo(map); activeTiles = layer; }
    });

    if (cfg.vector) {
      var base = L.layerGroup();
      cfg.vector.parts.forEach(function (part) {
        L.geoJSON(part.data, {
          pane: "zoningBase", interactive: false,
          style: function () { return part.style; }
        }).addTo(base);
      });
      control.addBaseLayer(base, cfg.vector.name_html);
      if (cfg.vector.active) base.addTo(map);
      state.basemap = base;
      if (activeTiles) fallBackWhenUnreachable(map, activeTiles, base, cfg);
    }

    var built = [];
    var legendEntries = [];
    cfg.layers.forEach(function (spec, i) {
      var gj = overlay(spec, cfg);
      var screening = spec.ns === "screening";
      gj.zoningGroup = spec.group;
      gj.zoningId = spec.id;
      control.addOverlay(gj, spec.name_html);
      built[i] = gj;
      (screening ? state.screening : state.layers)[spec.id] = gj;
      (screening ? state.screeningCounts : state.counts)[spec.id] = gj.getLayers().length;
      if (spec.kind === "sites" && screening && cfg.sites) {
        state.screening.markers = siteMarkers(map, gj, spec, cfg.sites);
      }
      if (spec.legend_html) legendEntries.push({ layer: gj, html: spec.legend_html });
    });
    // Listed by group, drawn by "z" (later on top); built layers are taken by position.
    cfg.layers.map(function (spec, i) { return { spec: spec, i: i }; })
      .sort(function (a, b) { return (a.spec.z || 0) - (b.spec.z || 0) || a.i - b.i; })
      .forEach(function (o) { if (o.spec.show) built[o.i].addTo(map); });
    control.addTo(map);
    state.control = control;

    var tools = cfg.tools || [];
    if (tools.indexOf("fullscreen") >= 0 && L.control.fullscreen) {
      map.addControl(L.control.fullscreen({
        position: "topleft", title: cfg.ui.fullscreen, titleCancel: cfg.ui.fullscreen_exit
      }));
    }
    if (tools.indexOf("measure") >= 0) addMeasure(map, cfg);
    if (tools.indexOf("draw") >= 0) addDraw(map, cfg, state);
    if (tools.indexOf("scale") >= 0) L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    if (tools.indexOf("coordinates") >= 0) addCoordinates(map, cfg);
    var legend = addLegend(map, cfg, legendEntries, narrow);
    state.legend = legend;

    if (cfg.bounds) {
      // Keep the features clear of the legend (bottom right) when the map is wide enough.
      var right = 10;
      var box = legend && legend.getContainer();
      var width = map.getSize().x;
      if (box && box.offsetWidth && box.offsetWidth + 20 < 0.45 * width) {
        right = box.offsetWidth + 20;
      }
      map.fitBounds(cfg.bounds, {
        paddingTopLeft: [50, 10], paddingBottomRight: [right, 10],
        // a zoom animation still running would undo the focus on a #site=<id> below
        animate: !/^#site=/.test(window.location.hash || "")
      });
    }
    if (state.screening.markers) state.screening.markers.zoningUpdate();

    // map.html#site=<id> (URL-encoded): focus that screened site; the report's site pages
    // link here.  An unknown id leaves the map as it is.
    function focusSite() {
      var m = /^#site=(.+)$/.exec(window.location.hash || "");
      if (!m) return;
      var id;
      try { id = decodeURIComponent(m[1]); } catch (e) { return; }
      var sites = null;
      cfg.layers.forEach(function (spec, i) {
        if (spec.kind === "sites" && spec.ns === "screening") sites = built[i];
      });
      if (!sites) return;
      var found = null;
      sites.eachLayer(function (layer) {
        var p = layer.feature && layer.feature.properties;
        if (!found && p && String(p.s) === id) found = layer;
      });
      if (!found) return;
      if (!map.hasLayer(sites)) sites.addTo(map);
      var b = found.getBounds ? found.getBounds() : L.latLngBounds([found.getLatLng(), found.getLatLng()]);
      map.stop(); // the overview's fit may still be animating
      map.fitBounds(b, { maxZoom: 16, padding: [40, 40], animate: false });
      state.focused = id;
      if (state.screening.markers) state.screening.markers.zoningUpdate();
    }
    window.addEventListener("hashchange", focusSite);

    // Ready once the browser has painted the layers (benchmarks and tests wait for this).
    requestAnimationFrame(function () {
      focusSite();
      requestAnimationFrame(function () {
        state.ready = true;
        document.documentElement.setAttribute("data-zoning-ready", "1");
      });
    });
    return state;
  }

  window.zoningBuild = build;
})();
