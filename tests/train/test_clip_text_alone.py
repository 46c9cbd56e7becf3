"""The joint loss's text embeddings do not depend on which captions were embedded beside them.

A resumed run starts with an empty cache, so a caption it embeds beside other captions must get
the same bits as one the interrupted run embedded alone (a padded batch gave other last bits on
a multi-threaded CPU, and resume was no longer bit-identical).
"""

from __future__ import annotations

import torch

from taco.losses import ClipTowers

CAPTIONS = ["a cat on a sofa", "a red car parked by a long white wall at noon", "the sea"]


def test_a_caption_embeds_the_same_alone_or_in_a_batch():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        alone = ClipTowers.load("tiny")
        want = torch.stack([alone.text_embeddings([c])[0] for c in CAPTIONS])
        together = ClipTowers.load("tiny").text_embeddings(CAPTIONS)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(together, want)
