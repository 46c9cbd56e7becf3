"""The evaluation's default model names, in a torch-free module so that ``taco evaluate --help``
(which shows them) imports no torch."""

DEFAULT_CAPTIONER = "Salesforce/blip-image-captioning-base"
DEFAULT_CMMD_CLIP = "openai/clip-vit-large-patch14-336"  # the CMMD paper's CLIP
