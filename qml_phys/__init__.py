"""qml_phys: machine learning in physics, from Ising Monte Carlo to variational circuits.

The physical model is specified once (:mod:`qml_phys.physics`) and compiled to every
engine; :mod:`qml_phys.physics.exact` holds the references every engine is tested against.
"""

__version__ = "0.1.0"
