"""Background work: one module per loop, each a :class:`~podium.services.base.Service` started the same
way by :mod:`podium.services.runner`, with its own settings and a lease."""
