/* The screening page of `zoning serve`: draw or upload sites, describe the project, screen,
 * download the documents.  Every string from the service or from the reader's file is written
 * with textContent / text nodes (never parsed as HTML); Leaflet tooltips get DOM elements, not
 * strings, for the same reason. */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };

  /* An element with properties and children (strings become text nodes). */
  function el(tag, props) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined) return;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else e.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var kid = arguments[i];
      if (kid === null || kid === undefined) continue;
      e.append(kid instanceof Node ? kid : String(kid));
    }
    return e;
  }

  /* Chinese words, then the English ones in a span. */
  function bi(zh, en) {
    return el("span", null, zh, " ", el("span", { class: "en", lang: "en" }, en));
  }

  var config = null;
  var industries = null;
  var map = null;
  var drawnItems = null;
  var uploaded = null; // {geojson, layer, name}
  var resultLayer = null;
  var lastBody = null;
  var chosenIndustry = "";

  function setText(id, text) { $(id).textContent = text || ""; }

  function verdictInfo(code) {
    var found = (config.verdicts || []).filter(function (v) { return v.code === code; })[0];
    return found || { code: code, zh: code, en: code, color: "#777777" };
  }

  /* ------------------------------------------------------------------ map */

  function setUpMap() {
    map = L.map("map", { center: [31.2, 121.45], zoom: 9, preferCanvas: false });
    map.attributionControl.setPrefix(false);
    L.control.scale({ imperial: false }).addTo(map);
    map.createPane("basemap");
    map.getPane("basemap").style.zIndex = 250;
    drawnItems = new L.FeatureGroup();
    map.addLayer(drawnItems);
    var local = L.drawLocal.draw.toolbar.buttons;
    local.polygon = "画多边形 Draw a polygon";
    local.rectangle = "画矩形 Draw a rectangle";
    local.circlemarker = "放置点 Place a point";
    local.polyline = "画线（线性工程） Draw a line (linear project)";
    var draw = new L.Control.Draw({
      position: "topleft",
      edit: { featureGroup: drawnItems, remove: true },
      draw: {
        polygon: { allowIntersection: false, showArea: false },
        rectangle: { showArea: false },
        circlemarker: {},
        polyline: {},
        marker: false,
        circle: false
      }
    });
    map.addControl(draw);
    map.on(L.Draw.Event.CREATED, function (event) {
      clearUpload();
      resetResult();
      drawnItems.addLayer(event.layer);
      describeSites();
    });
    map.on(L.Draw.Event.DELETED, function () { resetResult(); describeSites(); });
    map.on(L.Draw.Event.EDITED, resetResult);
    var tiles = null;
    $("osm-toggle").addEventListener("change", function () {
      if (this.checked) {
        tiles = L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution, maxZoom: 19 });
        tiles.addTo(map);
      } else if (tiles) {
        map.removeLayer(tiles);
        tiles = null;
      }
    });
    fetch("page/basemap").then(function (r) { return r.ok ? r.json() : { parts: [] }; })
      .then(function (data) {
        (data.parts || []).forEach(function (part) {
          var style = Object.assign({}, part.style, { pane: "basemap", interactive: false });
          L.geoJSON(part.data, { style: function () { return style; }, interactive: false, pane: "basemap" }).addTo(map);
        });
        document.body.setAttribute("data-basemap", String((data.parts || []).length));
      });
  }

  /* Sites changed or a screening failed: the result shown no longer answers the form. */
  function resetResult() {
    $("results").hidden = true;
    lastBody = null;
    if (resultLayer) map.removeLayer(resultLayer);
    resultLayer = null;
  }

  function describeSites() {
    var n = drawnItems.getLayers().length;
    if (uploaded) {
      var k = uploaded.geojson.type === "FeatureCollection" ? (uploaded.geojson.features || []).length : 1;
      setText("site-status", "已载入文件 " + uploaded.name + "：" + k + " 个场址 / loaded " + k + " site(s) from the file");
    } else if (n) {
      setText("site-status", "已绘制 " + n + " 个场址 / " + n + " site(s) drawn");
    } else {
      setText("site-status", "尚无场址 / no site yet");
    }
  }

  function clearUpload() {
    if (uploaded) map.removeLayer(uploaded.layer);
    uploaded = null;
    $("site-file").value = "";
  }

  /* A tooltip as a DOM element: the file's or the service's words stay text. */
  function tooltipOf(props) {
    var name = props && (props.name || props.名称 || props.site_id || props.id);
    return name === undefined || name === null ? null : el("span", null, String(name));
  }

  function showGeoJSON(geojson, name) {
    var layer = L.geoJSON(geojson, {
      style: function () { return { color: "#1f4e99", weight: 2, fillOpacity: 0.15 }; },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 7, color: "#1f4e99" }); },
      onEachFeature: function (f, lay) {
        var tip = tooltipOf(f.properties);
        if (tip) lay.bindTooltip(tip);
      }
    }).addTo(map);
    drawnItems.clearLayers();
    resetResult();
    if (uploaded) map.removeLayer(uploaded.layer);
    uploaded = { geojson: geojson, layer: layer, name: name };
    var b = layer.getBounds();
    if (b.isValid()) map.fitBounds(b, { maxZoom: 15 });
    describeSites();
  }

  function readFile(file) {
    setText("form-error", "");
    var lower = file.name.toLowerCase();
    if (/\.(geo)?json$/.test(lower)) {
      file.text().then(function (text) {
        var data;
        try { data = JSON.parse(text); } catch (e) {
          setText("site-status", file.name + "：不是有效的 JSON / not valid JSON (" + e.message + ")");
          return;
        }
        if (!data || typeof data !== "object" || !data.type) {
          setText("site-status", file.name + "：不是 GeoJSON / not GeoJSON");
          return;
        }
        try { showGeoJSON(data, file.name); } catch (e2) {
          setText("site-status", file.name + "：无法显示 / cannot be drawn (" + e2.message + ")");
        }
      });
      return;
    }
    if (!config.jobs) {
      setText("site-status", file.name + "：此格式需通过批量任务接口 /jobs 提交，本服务未提供该接口；请改用 GeoJSON。 / "
        + "This format goes through the batch endpoint /jobs, which this service does not offer; use GeoJSON.");
      return;
    }
    submitJob(file);
  }

  function submitJob(file) {
    var form = new FormData();
    form.append("file", file, file.name);
    if ($("upload-crs").value) form.append("crs", $("upload-crs").value);
    // One form field per attribute, as the command line's options (facility repeated).
    var attrs = collectAttributes();
    Object.keys(attrs).forEach(function (k) {
      [].concat(attrs[k]).forEach(function (v) { form.append(k, String(v)); });
    });
    if ($("as-of").value) form.append("as_of", $("as-of").value);
    setText("site-status", file.name + "：正在提交批量任务 / submitting a job ...");
    fetch("jobs", { method: "POST", body: form }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (res) {
      if (!res.ok) { setText("site-status", file.name + "：" + problemText(res.data)); return; }
      pollJob(String(res.data.id || res.data.job_id || ""), file.name);
    }).catch(function (e) { setText("site-status", file.name + "：" + e.message); });
  }

  function pollJob(id, name) {
    if (!id) { setText("site-status", name + "：服务未返回任务编号 / no job id returned"); return; }
    fetch("jobs/" + encodeURIComponent(id)).then(function (r) { return r.json(); }).then(function (job) {
      var status = String(job.status || "");
      var progress = typeof job.progress === "number" ? " " + Math.round(job.progress * 100) + "%" : "";
      var error = job.error ? " " + String(job.error) : "";
      setText("site-status", "任务 job " + id + "：" + status + progress + error);
      if (!/^(finished|succeeded|successful|failed|cancelled|canceled|dismissed|expired)$/.test(status)) {
        window.setTimeout(function () { pollJob(id, name); }, 1500);
        return;
      }
      jobLinks(job);
    }).catch(function (e) { setText("site-status", "任务 job " + id + "：" + e.message); });
  }

  /* The result files of a finished job: links to the service's own /jobs/ URLs only. */
  function safeJobHref(href) {
    var h = String(href || "").replace(/^\//, "");
    return /^jobs\/[A-Za-z0-9_.~%\/-]+$/.test(h) && h.indexOf("..") < 0 ? h : null;
  }

  function jobLinks(job) {
    var links = Array.isArray(job.links) ? job.links : [];
    var list = el("ul", { class: "job-links" });
    function add(href, words) {
      var safe = safeJobHref(href);
      if (safe) list.append(el("li", null, el("a", { href: safe, download: "" }, words)));
    }
    var listing = links.filter(function (l) { return l && l.rel === "results"; })[0];
    links.forEach(function (l) {
      if (l && l.rel !== "self" && l.rel !== "results") add(l.href, "全部结果 all results (" + String(l.rel || "") + ")");
    });
    $("site-status").append(list);
    if (!listing || !safeJobHref(listing.href)) return;
    fetch(safeJobHref(listing.href)).then(function (r) { return r.ok ? r.json() : { files: [] }; })
      .then(function (data) {
        (Array.isArray(data.files) ? data.files : []).forEach(function (f) { add(f.href, String(f.name || f.href)); });
      });
  }

  /* ------------------------------------------------------------------ form */

  function helpLine(item) {
    return el("p", { class: "help" }, item.help_zh, " ", el("span", { class: "en", lang: "en" }, item.help_en),
      " ", el("code", null, item.option));
  }

  function undeclaredOption() { return el("option", { value: "" }, "未申报 / not declared"); }

  function buildForm() {
    var nature = $("nature");
    nature.append(undeclaredOption());
    config.nature.values.forEach(function (v) {
      nature.append(el("option", { value: v.code }, v.zh + " / " + v.en));
    });
    $("nature-help").replaceWith(helpLine(config.nature));
    var flags = $("flags");
    config.flags.forEach(function (f) {
      var id = "flag-" + f.code;
      var select = el("select", { id: id, "data-attribute": f.code },
        undeclaredOption(), el("option", { value: "true" }, "是 / yes"), el("option", { value: "false" }, "否 / no"));
      flags.append(el("div", { class: "field" }, el("label", { for: id }, bi(f.zh, f.en)), select, helpLine(f)));
    });
    var choices = $("choices");
    config.choices.forEach(function (c) {
      var id = "choice-" + c.code;
      if (c.code === "facility") {
        var box = el("div", { id: id, class: "checks", role: "group", "aria-label": c.zh + " " + c.en });
        c.values.forEach(function (v) {
          box.append(el("label", null, el("input", { type: "checkbox", value: v.code, "data-facility": "1" }),
            " " + v.zh + " / " + v.en));
        });
        choices.append(el("div", { class: "field" }, el("p", { class: "label" }, bi(c.zh, c.en)), box, helpLine(c)));
        return;
      }
      var select = el("select", { id: id, "data-attribute": c.code }, undeclaredOption());
      c.values.forEach(function (v) { select.append(el("option", { value: v.code }, v.zh + " / " + v.en)); });
      choices.append(el("div", { class: "field" }, el("label", { for: id }, bi(c.zh, c.en)), select, helpLine(c)));
    });
    $("as-of").value = config.today;
    if (!config.demonstration) $("demo-notice").hidden = true;
  }

  function collectAttributes() {
    var attrs = {};
    if (chosenIndustry) attrs.industry = chosenIndustry;
    if ($("nature").value) attrs.nature = $("nature").value;
    document.querySelectorAll("select[data-attribute]").forEach(function (s) {
      if (!s.value) return;
      attrs[s.getAttribute("data-attribute")] = s.value === "true" ? true : s.value === "false" ? false : s.value;
    });
    var facilities = [];
    document.querySelectorAll("input[data-facility]:checked").forEach(function (c) { facilities.push(c.value); });
    if (facilities.length) attrs.facility = facilities;
    return attrs;
  }

  /* ------------------------------------------------------------------ industry list */

  function chooseIndustry(code, words) {
    chosenIndustry = code;
    $("industry-chosen").textContent = code ? "已选 chosen: " + code + (words ? " " + words : "") : "";
    document.querySelectorAll("#industry-list li[role=option]").forEach(function (li) {
      li.setAttribute("aria-selected", li.getAttribute("data-code") === code ? "true" : "false");
    });
  }

  function renderIndustries(query) {
    var list = $("industry-list");
    list.replaceChildren();
    var q = (query || "").trim().toLowerCase();
    var sections = {};
    industries.sections.forEach(function (s) { sections[s.code] = s; });
    var shown = 0;
    var lastSection = null;
    industries.divisions.forEach(function (d) {
      var s = sections[d.section];
      var hay = [d.code, d.division, d.zh, d.en, s.zh, s.en].join(" ").toLowerCase();
      if (q && hay.indexOf(q) < 0) return;
      if (d.section !== lastSection) {
        list.append(el("li", { class: "section", role: "presentation" }, d.section + " " + s.zh + " / " + s.en));
        lastSection = d.section;
      }
      var li = el("li", { role: "option", "data-code": d.code, tabindex: "-1", "aria-selected": String(d.code === chosenIndustry) },
        el("b", null, d.code), " " + d.zh + " ", el("span", { class: "en", lang: "en" }, d.en));
      li.addEventListener("click", function () { chooseIndustry(d.code, d.zh + " " + d.en); });
      li.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); li.click(); }
        else if (event.key === "ArrowDown" && li.nextElementSibling) { event.preventDefault(); focusOption(li, 1); }
        else if (event.key === "ArrowUp") { event.preventDefault(); focusOption(li, -1); }
      });
      list.append(li);
      shown += 1;
    });
    if (!shown) list.append(el("li", { class: "empty", role: "presentation" }, "无匹配 / no match"));
    return shown;
  }

  /* Keyboard: the next or previous option of the list (the search box above the first). */
  function focusOption(li, step) {
    var options = Array.prototype.slice.call(document.querySelectorAll("#industry-list li[role=option]"));
    var next = options[options.indexOf(li) + step];
    if (next) next.focus();
    else if (step < 0) $("industry-search").focus();
  }

  function setUpIndustries() {
    var search = $("industry-search");
    renderIndustries("");
    search.addEventListener("input", function () { renderIndustries(search.value); });
    $("industry-clear").addEventListener("click", function () {
      chooseIndustry("", "");
      search.value = "";
      renderIndustries("");
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        var first = document.querySelector("#industry-list li[role=option]");
        if (first) { event.preventDefault(); first.focus(); }
        return;
      }
      if (event.key !== "Enter") return;
      event.preventDefault();
      var text = search.value.trim();
      var options = document.querySelectorAll("#industry-list li[role=option]");
      if (/^[A-Za-z]?\d{2,4}$/.test(text) && (options.length !== 1 || options[0].getAttribute("data-code").length !== text.length)) {
        chooseIndustry(text.toUpperCase(), "(按输入 as typed)");
      } else if (options.length === 1) {
        options[0].click();
      }
    });
  }

  /* ------------------------------------------------------------------ screening */

  function sitesGeoJSON() {
    if (uploaded) return uploaded.geojson;
    var layers = drawnItems.getLayers();
    if (!layers.length) return null;
    return {
      type: "FeatureCollection",
      features: layers.map(function (layer, i) {
        var f = layer.toGeoJSON();
        f.properties = { name: "绘制场址 drawn site " + (i + 1) };
        return f;
      })
    };
  }

  function problemText(data) {
    if (data && typeof data === "object") return String(data.detail || data.title || JSON.stringify(data));
    return String(data);
  }

  function submit(event) {
    event.preventDefault();
    setText("form-error", "");
    var sites = sitesGeoJSON();
    if (!sites) { setText("form-error", "请先在地图上画出或上传场址。 / Draw or upload a site first."); return; }
    var body = { sites: sites, attributes: collectAttributes() };
    if (uploaded && $("upload-crs").value) body.crs = $("upload-crs").value;
    if ($("as-of").value) body.as_of = $("as-of").value;
    $("submit").disabled = true;
    setText("form-error", "研判中 / screening ...");
    post("screen", body).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (res) {
      $("submit").disabled = false;
      if (!res.ok) {
        resetResult();
        setText("form-error", problemText(res.data));
        $("form-error").scrollIntoView({ block: "nearest" });
        return;
      }
      setText("form-error", "");
      lastBody = body;
      showResult(res.data);
    }).catch(function (e) {
      $("submit").disabled = false;
      setText("form-error", "请求失败 / request failed: " + e.message);
    });
  }

  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  function badge(code, zhWords) {
    var v = verdictInfo(code);
    var b = el("span", { class: "badge verdict-" + (v.code || "unknown") }, (zhWords || v.zh) + " / " + v.en);
    b.style.backgroundColor = v.color;
    return b;
  }

  function showResult(data) {
    var box = $("verdicts");
    box.replaceChildren();
    var sites = data.sites || [];
    sites.forEach(function (s) {
      box.append(el("p", { class: "site-verdict" },
        el("span", { class: "site-name" }, "场址 site " + s.site_id + (s.name ? "（" + s.name + "）" : "") + "："),
        badge(s.verdict, s.verdict_zh)));
    });
    var several = sites.length > 1;
    var reasons = $("reasons");
    reasons.replaceChildren();
    (data.reasons || []).forEach(function (r) {
      reasons.append(el("li", null,
        several ? el("span", { class: "site-name" }, "[" + r.site_id + "] ") : null,
        badge(r.verdict, verdictInfo(r.verdict).zh), " ",
        r.message_zh || "", el("br"), el("span", { class: "en", lang: "en" }, r.message_en || ""),
        el("span", { class: "citation" },
          (r.citation ? "依据 " + r.citation : ""),
          (r.feature_name || r.feature_id ? " · " + (r.layer_id || "") + " " + (r.feature_name || r.feature_id) : ""))));
    });
    if (!(data.reasons || []).length) reasons.append(el("li", null, "无 / none"));
    var body = $("clauses").tBodies[0];
    body.replaceChildren();
    (data.clauses || []).forEach(function (c) {
      var cite = el("td", null, c.citation || "");
      if (c.quote) cite.setAttribute("title", c.quote);
      body.append(el("tr", { class: "result-" + (c.result || "") },
        el("td", null, c.site_id), el("td", null, c.clause_zh || ""), cite,
        el("td", null, c.result_zh || c.result || ""),
        el("td", null, c.explanation_zh || "", c.explanation_en ? el("span", { class: "en", lang: "en" }, " " + c.explanation_en) : null)));
    });
    var prov = data.provenance || {};
    var catalog = prov.catalog || {};
    $("provenance").textContent = "研判日期 as of " + (prov.as_of || "") + " · " + (catalog.title || "")
      + (prov.demonstration ? " · 演示数据，非官方 / demonstration data, not official" : "");
    var notes = $("notes");
    notes.replaceChildren();
    (data.notes || []).forEach(function (n) { notes.append(el("li", null, String(n))); });
    drawResult(sites);
    $("results").hidden = false;
    setText("download-status", "");
    $("results").scrollIntoView({ block: "start" });
  }

  function drawResult(sites) {
    if (resultLayer) map.removeLayer(resultLayer);
    resultLayer = L.layerGroup().addTo(map);
    var shapes = uploaded ? uploaded.layer.getLayers() : drawnItems.getLayers();
    sites.forEach(function (s, i) {
      var v = verdictInfo(s.verdict);
      var tip = el("span", null, "场址 site " + s.site_id + (s.name ? " " + s.name : "") + "：" + (s.verdict_zh || v.zh) + " / " + v.en);
      if (shapes.length === sites.length && shapes[i].setStyle) shapes[i].setStyle({ color: v.color, fillColor: v.color });
      if (typeof s.lat === "number" && typeof s.lon === "number") {
        L.circleMarker([s.lat, s.lon], { radius: 6, color: "#222", weight: 1, fillColor: v.color, fillOpacity: 1 })
          .bindTooltip(tip).addTo(resultLayer);
      }
    });
  }

  function download(format) {
    if (!lastBody) return;
    setText("download-status", "正在生成 / preparing " + format + " ...");
    post("screen?format=" + encodeURIComponent(format), lastBody).then(function (r) {
      if (!r.ok) return r.json().then(function (d) { throw new Error(problemText(d)); });
      var disposition = r.headers.get("Content-Disposition") || "";
      var match = /filename="?([^";]+)"?/.exec(disposition);
      var name = match ? match[1] : "screening." + format;
      return r.blob().then(function (blob) { return { blob: blob, name: name }; });
    }).then(function (got) {
      var url = URL.createObjectURL(got.blob);
      var a = el("a", { href: url, download: got.name });
      document.body.append(a);
      a.click();
      a.remove();
      window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      setText("download-status", "已下载 downloaded: " + got.name);
    }).catch(function (e) { setText("download-status", "下载失败 / download failed: " + e.message); });
  }

  /* ------------------------------------------------------------------ start */

  function start() {
    Promise.all([
      fetch("page/config").then(function (r) { return r.json(); }),
      fetch("industries").then(function (r) { return r.json(); })
    ]).then(function (got) {
      config = got[0];
      industries = got[1];
      buildForm();
      setUpMap();
      setUpIndustries();
      describeSites();
      $("site-file").addEventListener("change", function () { if (this.files[0]) readFile(this.files[0]); });
      $("clear-sites").addEventListener("click", function () {
        clearUpload();
        drawnItems.clearLayers();
        resetResult();
        describeSites();
      });
      $("screen-form").addEventListener("submit", submit);
      document.querySelectorAll(".downloads button[data-format]").forEach(function (b) {
        b.addEventListener("click", function () { download(b.getAttribute("data-format")); });
      });
      // For tests and the curious: the map and the drawn sites (read them, do not rely on more).
      window.zoningPage = { map: map, drawnItems: drawnItems };
      document.body.setAttribute("data-ready", "1");
    }).catch(function (e) { setText("form-error", "页面加载失败 / the page could not start: " + e.message); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
