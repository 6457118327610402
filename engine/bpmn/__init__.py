"""BPMN files: safe XML parsing (:mod:`.xml`), the BPMN XSD (:mod:`.xsd`), the sopflow dialect
(:mod:`.elements`, :mod:`.dialect`), and a diagram made into process specs (:mod:`.diagram`).
:mod:`.namespaces` is the one home of the BPMN and Camunda namespace URIs.

Import from the submodules (``from engine.bpmn.xml import safe_parse``): this package imports
nothing itself, so :mod:`engine.forms` and :mod:`engine.topics` can use :mod:`.namespaces`
without loading the parser.
"""
