"""``python -m taco ...``: the ``taco`` command (for an environment whose scripts folder is not
on PATH, or to pick the interpreter: ``.venv/bin/python -m taco compress ...``)."""


from taco.cli import run

run()
