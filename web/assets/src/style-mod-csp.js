// style-mod (CodeMirror's CSS-in-JS, used by the properties panel's FEEL editors) puts its rules
// in a <style> element when mounted on a document, which the app's CSP (style-src 'self', no
// 'unsafe-inline') refuses. This stand-in, aliased for 'style-mod' in build.mjs, keeps the same
// module order rules but always writes them to a constructed stylesheet (adoptedStyleSheets),
// which CSP allows, so the modeler needs no relaxed policy.
import { StyleModule as Original } from '../node_modules/style-mod/src/style-mod.js';

const sets = new WeakMap();

function styleSet(target, win) {
  let set = sets.get(target);
  if (!set) {
    set = { sheet: new win.CSSStyleSheet(), modules: [] };
    sets.set(target, set);
  }
  return set;
}

export class StyleModule extends Original {
  static mount(root, modules, options) {
    const doc = root.ownerDocument || root;
    const win = doc.defaultView;
    if (!win || !win.CSSStyleSheet || !('adoptedStyleSheets' in root)) {
      return Original.mount(root, modules, options);
    }
    const set = styleSet(root, win);
    const list = Array.isArray(modules) ? modules : [modules];
    let pos = 0;
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const mod = list[i];
      let index = set.modules.indexOf(mod);
      if (index < j && index > -1) { // ordering conflict: drop and re-add at the new place
        set.modules.splice(index, 1);
        j--;
        index = -1;
      }
      if (index === -1) {
        set.modules.splice(j++, 0, mod);
        for (let k = 0; k < mod.rules.length; k++) { set.sheet.insertRule(mod.rules[k], pos++); }
      } else {
        while (j < index) { pos += set.modules[j++].rules.length; }
        pos += mod.rules.length;
        j++;
      }
    }
    if (root.adoptedStyleSheets.indexOf(set.sheet) < 0) {
      root.adoptedStyleSheets = [set.sheet, ...root.adoptedStyleSheets];
    }
  }
}
