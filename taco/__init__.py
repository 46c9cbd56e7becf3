"""taco: text-guided neural image compression (TACO, ICML 2024).

A caption guides the encoder only; a ``.taco`` file decodes without it.
"""

__version__ = "0.1.0"
