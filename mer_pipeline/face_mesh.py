"""Face-mesh landmark indices (mediapipe's 468-point mesh, 478 with the irises): the one table every stage reads.

Left and right are as seen in the image: the first of a pair is the eye, brow or temple on the image's left.
"""

MESH_POINTS = 468  # the face-mesh points, iris points (468-477) excluded

# An eye centre is the mean of its inner and outer corner (stable under gaze shifts, unlike the iris).
EYE_CENTRE_CORNERS = ((33, 133), (362, 263))
EYE_OUTER = (33, 263)  # the outer corners: their distance is the face's eye distance

# Regions that do not move with the expressions: what stabilisation registers on.
FOREHEAD = (10, 109, 67, 103, 54, 338, 297, 332, 284, 151)  # not the skin just above the brows
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4, 122, 351, 188, 412)  # the dorsum, not the wings (AU9)
TEMPLES = ((127, 234, 93, 137, 34, 143), (356, 454, 323, 366, 264, 372))  # face contour beside the eyes
OUTER_EYE_CORNERS = ((33, 130, 226), (263, 359, 446))  # outer corners, not the lids
RIGID_LANDMARKS = tuple(
    sorted({*FOREHEAD, *NOSE_BRIDGE, *OUTER_EYE_CORNERS[0], *OUTER_EYE_CORNERS[1], *TEMPLES[0], *TEMPLES[1]})
)

# Outlines of the regions whose motion spotting measures (left and right parts are filled separately).
REGIONS = {
    "brows": ((70, 63, 105, 66, 107, 55, 65, 52, 53, 46), (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)),
    "eyes": (
        (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
        (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
    ),
    "nose": ((129, 64, 98, 49, 48, 102, 203, 206), (358, 294, 327, 279, 278, 331, 423, 426)),
    "mouth": ((61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185),),
}
