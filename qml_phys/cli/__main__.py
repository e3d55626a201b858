"""``python -m qml_phys.cli`` runs the ``qml-phys`` command."""

import sys

from qml_phys.cli import main

sys.exit(main())
