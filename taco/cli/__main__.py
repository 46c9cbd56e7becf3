"""``python -m taco.cli ...``: the ``taco`` command (as ``python -m taco``)."""


from taco.cli import run

run()
