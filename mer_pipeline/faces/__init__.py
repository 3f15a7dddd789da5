"""Face preprocessing: landmarks (mediapipe), similarity alignment, equalisation."""
