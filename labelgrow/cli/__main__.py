"""``python -m labelgrow.cli`` (and ``accelerate launch -m labelgrow.cli``)."""

from labelgrow.cli import main

main()
