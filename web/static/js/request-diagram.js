// The request page's diagram (web/templates/requests/detail.html): the BPMN of the version the
// request runs on, in the read-only bpmn-js viewer (vendor/viewer.js), with the steps done
// (class sf-done) and the steps waiting now (class sf-current) marked. Without JavaScript the
// page keeps its text timeline; this only adds the picture.
(function () {
  'use strict';

  var box = document.getElementById('sf-request-diagram');
  if (!box || !window.SopflowBpmn || !window.SopflowBpmn.Viewer) {
    return;
  }
  var canvasEl = box.querySelector('.sf-viewer');
  var viewer = new window.SopflowBpmn.Viewer({ container: canvasEl });
  window.sopflowViewer = viewer; // for browser tests and the console

  function get(url, as) {
    return fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) { throw new Error(url + ': ' + r.status); }
      return as === 'json' ? r.json() : r.text();
    });
  }

  box.hidden = false;
  Promise.all([get(box.dataset.xmlUrl, 'text'), get(box.dataset.stateUrl, 'json')])
    .then(function (parts) {
      return viewer.importXML(parts[0]).then(function () { return parts[1]; });
    })
    .then(function (state) {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      function mark(ids, cls) {
        (ids || []).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, cls); }
        });
      }
      mark(state.done, 'sf-done');
      mark(state.current, 'sf-current');
      canvas.zoom('fit-viewport', 'auto');
      box.classList.add('sf-ready');
    })
    .catch(function () {
      box.hidden = true; // the text timeline below still tells the story
    });
})();
