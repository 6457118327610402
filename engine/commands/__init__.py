"""The write side, one module per area. Each command checks who may do it, then changes an
instance through :class:`engine.unit_of_work.UnitOfWork` (or, for rows outside any instance's
workflow, in one plain transaction)."""
