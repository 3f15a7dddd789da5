"""The paper's published numbers (arXiv 2509.00056), for the report's side-by-side tables.

Only the figures quoted in shared/MER_FACTS.md section 7 are here; cells the paper reports but we do not hold are
None and render as "n/a".
"""

# Table III (3-class, LOSO), MESTI + MEGANet: dataset -> (UF1, UAR, ACC)
TABLE3 = {"casme2": (0.913, 0.929, 0.932), "smic-hs": (0.917, 0.924, 0.926), "samm": (0.890, 0.914, 0.918)}
# Table IV (5-class, LOSO), MESTI + MEGANet: dataset -> (UF1, UAR, ACC)
TABLE4 = {"casme2": (0.779, 0.786, 0.8204), "samm": (0.791, 0.803, 0.8088)}
# Table I (90/10 split), ACC: (model, modality, dataset) -> accuracy
TABLE1 = {
    ("vgg19", "mesti", "casme2"): 0.7308, ("vgg19", "mesti", "samm"): 0.6250,
    ("vgg19", "dynamic_image", "casme2"): 0.5769, ("vgg19", "dynamic_image", "samm"): 0.5000,
}
