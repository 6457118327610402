"""The read side: functions taking a session and the actor (and the actor's agency row), each
applying the filters of :mod:`engine.access`, so what a caller may not read is not found."""
