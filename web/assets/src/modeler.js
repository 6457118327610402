// The analyst's web modeler: bpmn-js with the properties panel and the Camunda Platform 7
// extensions (camunda:formData/formField, candidate groups, assignee, external topics, timers),
// so a diagram opened here round-trips with Camunda Modeler. Exposed as
// window.SopflowBpmn.createModeler for web/static/js/designer.js.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

function createModeler(container, panel) {
  return new BpmnModeler({
    container,
    propertiesPanel: { parent: panel },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
    ],
    moddleExtensions: { camunda: camundaModdle },
  });
}

window.SopflowBpmn = Object.assign(window.SopflowBpmn || {}, { createModeler });
