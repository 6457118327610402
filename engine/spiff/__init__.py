"""The only package that knows SpiffWorkflow: its parser and specs, the serializer, the script
engine, the reserved ids, and the walking of a live workflow's task tree (:mod:`.tree`) and
acting on it (:mod:`.steps`). Everything else in the engine speaks rows and plain values."""
