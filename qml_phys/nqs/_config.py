"""Private helpers shared by the configs of :mod:`qml_phys.nqs`."""

from __future__ import annotations

import functools
import warnings

from qml_phys.errors import InvalidParameterError


def iters_alias(cls):
    """Class decorator (after ``@dataclass``): accept the deprecated keyword ``iters=`` as
    ``n_steps=`` (with a :class:`DeprecationWarning`) and read ``config.iters`` as
    ``config.n_steps``.

    ``iters`` is not a field, so :func:`dataclasses.replace`, :func:`dataclasses.asdict`
    and :func:`dataclasses.fields` see ``n_steps`` only.
    """
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, iters=None, **kwargs):
        if iters is not None:
            warnings.warn(
                f"{cls.__name__}(iters=...) is deprecated; use n_steps=... (same meaning)",
                DeprecationWarning,
                stacklevel=2,
            )
            if kwargs.get("n_steps", iters) != iters:
                raise InvalidParameterError(
                    f"{cls.__name__}: expected one of n_steps or its deprecated alias iters; "
                    f"got n_steps={kwargs['n_steps']} and iters={iters}"
                )
            kwargs["n_steps"] = iters
        init(self, *args, **kwargs)

    def _iters(self) -> int:
        return self.n_steps

    cls.__init__ = __init__
    cls.iters = property(_iters, doc="Deprecated alias of ``n_steps`` (read-only).")
    return cls
