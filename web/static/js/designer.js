// The web modeler page (web/templates/designer/modeler.html): loads the draft into bpmn-js
// (vendor/modeler.js), saves it with the revision it started from (a stale save gets the
// server's 409 message), validates it with the deploy checks and shows every problem on the
// diagram (a marker and an overlay on the element) and in the list under it; warnings (a
// topic no built-in handler works) the same way in their own colour and list.
(function () {
  'use strict';

  var root = document.getElementById('sf-designer');
  if (!root || !window.SopflowBpmn || !window.SopflowBpmn.createModeler) {
    return;
  }
  var data = root.dataset;
  var statusEl = document.getElementById('sf-status');
  var listEl = document.getElementById('sf-problem-list');
  var titleEl = document.getElementById('sf-problems-title');
  var warnListEl = document.getElementById('sf-warning-list');
  var warnTitleEl = document.getElementById('sf-warnings-title');
  var saveBtn = document.getElementById('sf-save');
  var validateBtn = document.getElementById('sf-validate');
  var publishForm = document.getElementById('sf-publish');
  var revision = parseInt(data.revision, 10);
  var dirty = false;
  var marked = [];

  var modeler = window.SopflowBpmn.createModeler(
    document.getElementById('sf-canvas'),
    document.getElementById('sf-panel')
  );
  window.sopflowModeler = modeler; // for browser tests and the console

  function status(text, kind) {
    statusEl.textContent = text || '';
    statusEl.className = 'sf-status' + (kind ? ' sf-status-' + kind : '');
  }

  function answer(response) {
    return response.text().then(function (body) {
      var json = null;
      try { json = JSON.parse(body); } catch (e) { json = null; }
      return { ok: response.ok, status: response.status, json: json };
    });
  }

  function send(url, payload) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'X-CSRFToken': data.csrf,
      },
      body: JSON.stringify(payload),
    }).then(answer);
  }

  function clearProblems() {
    var overlays = modeler.get('overlays');
    var canvas = modeler.get('canvas');
    overlays.remove({ type: 'sf-problem' });
    overlays.remove({ type: 'sf-warning' });
    marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
    marked = [];
  }

  // a problem may name an element that has no shape of its own (a timer's event definition,
  // a loop definition): show it on the shape that owns it
  function shapeOf(id) {
    var registry = modeler.get('elementRegistry');
    if (!id) { return null; }
    var direct = registry.get(id);
    if (direct) { return direct; }
    return registry.find(function (el) {
      var bo = el.businessObject || {};
      var parts = (bo.eventDefinitions || []).concat(bo.loopCharacteristics || []);
      return parts.some(function (p) { return p && p.id === id; });
    }) || null;
  }

  function select(id) {
    var element = shapeOf(id);
    if (!element) { return; }
    modeler.get('selection').select(element);
    modeler.get('canvas').scrollToElement(element);
  }

  // problems: [{element_id, line, message}]; the list is rebuilt with DOM nodes (textContent),
  // so a message can never inject markup
  function showProblems(problems, warnings) {
    clearProblems();
    showNotes(listEl, titleEl, problems, 'sf-problem', 'sf-invalid');
    if (warnListEl) {
      showNotes(warnListEl, warnTitleEl, warnings || [], 'sf-warning', 'sf-warned');
    }
  }

  function showNotes(list, title, items, kind, marker) {
    var overlays = modeler.get('overlays');
    var canvas = modeler.get('canvas');
    list.textContent = '';
    title.hidden = items.length === 0;
    items.forEach(function (p) {
      var li = document.createElement('li');
      li.dataset.elementId = p.element_id || '';
      if (p.element_id) {
        var goto = document.createElement('button');
        goto.type = 'button';
        goto.className = 'link sf-goto';
        goto.textContent = p.element_id;
        li.appendChild(goto);
        li.appendChild(document.createTextNode(': '));
      }
      li.appendChild(document.createTextNode(p.message + (p.line ? ' (' + p.line + ')' : '')));
      list.appendChild(li);
      var element = shapeOf(p.element_id);
      if (element) {
        if (!marked.some(function (m) { return m[0] === element.id && m[1] === marker; })) {
          canvas.addMarker(element.id, marker);
          marked.push([element.id, marker]);
        }
        var note = document.createElement('div');
        note.className = kind + '-note';
        note.textContent = p.message;
        overlays.add(element.id, kind, {
          position: { top: (element.height || 0) + 4, left: 0 },
          scale: { min: 1 }, // readable even when the whole diagram is fitted small
          html: note,
        });
      }
    });
  }

  // problems the server rendered into the page (a refused publish)
  function pageProblems(list) {
    var out = [];
    if (!list) { return out; }
    Array.prototype.forEach.call(list.querySelectorAll('li'), function (li) {
      var text = li.textContent;
      var id = li.dataset.elementId || null;
      if (id && text.indexOf(id + ': ') === 0) { text = text.slice(id.length + 2); }
      out.push({ element_id: id, line: null, message: text.trim() });
    });
    return out;
  }

  [listEl, warnListEl].forEach(function (list) {
    if (!list) { return; }
    list.addEventListener('click', function (event) {
      var li = event.target.closest('li');
      if (li && li.dataset.elementId) { select(li.dataset.elementId); }
    });
  });

  function save() {
    status(data.msgSaving);
    return modeler.saveXML({ format: true }).then(function (result) {
      return send(data.saveUrl, { xml: result.xml, revision: revision });
    }).then(function (r) {
      if (r.ok && r.json) {
        revision = r.json.revision;
        dirty = false;
        status(r.json.message, 'ok');
        return true;
      }
      status((r.json && r.json.error) || data.msgSaveFailed + ' (' + r.status + ')', 'error');
      return false;
    }).catch(function () {
      status(data.msgSaveFailed, 'error');
      return false;
    });
  }

  function validate() {
    status(data.msgValidating);
    return modeler.saveXML({ format: true }).then(function (result) {
      return send(data.validateUrl, { xml: result.xml });
    }).then(function (r) {
      if (!r.json) {
        status(data.msgSaveFailed + ' (' + r.status + ')', 'error');
        return;
      }
      showProblems(r.json.problems || [], r.json.warnings || []);
      status(r.json.message, r.json.ok ? 'ok' : 'error');
    });
  }

  // fit the diagram, leaving the palette's strip on the left free so no shape hides under it
  function fit() {
    var canvas = modeler.get('canvas');
    canvas.zoom('fit-viewport');
    var palette = root.querySelector('.djs-palette');
    if (!palette) { return; }
    var vb = canvas.viewbox();
    var pad = (palette.getBoundingClientRect().width + 16) / vb.scale;
    canvas.viewbox({ x: vb.x - pad, y: vb.y, width: vb.width + pad, height: vb.height });
  }

  saveBtn.addEventListener('click', save);
  validateBtn.addEventListener('click', validate);
  if (publishForm) {
    // publish what is on the screen: save first when there are unsaved changes
    publishForm.addEventListener('submit', function (event) {
      if (!dirty) { return; }
      event.preventDefault();
      save().then(function (ok) { if (ok) { publishForm.submit(); } });
    });
  }
  window.addEventListener('beforeunload', function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ''; }
  });

  fetch(data.xmlUrl, { credentials: 'same-origin' })
    .then(function (r) {
      revision = parseInt(r.headers.get('X-Draft-Revision') || revision, 10);
      return r.text();
    })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      fit();
      saveBtn.hidden = false;
      validateBtn.hidden = false;
      showProblems(pageProblems(listEl), pageProblems(warnListEl));
      modeler.on('commandStack.changed', function () {
        dirty = true;
        status(data.msgDirty);
      });
      root.classList.add('sf-ready');
    })
    .catch(function (err) {
      status(data.msgImportFailed + ' ' + (err && err.message ? err.message : ''), 'error');
    });
})();
