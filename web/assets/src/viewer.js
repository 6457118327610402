// The read-only diagram on the request page: NavigatedViewer (pan and zoom, no editing).
// Exposed as window.SopflowBpmn.Viewer for web/static/js/request-diagram.js.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

window.SopflowBpmn = Object.assign(window.SopflowBpmn || {}, { Viewer: NavigatedViewer });
