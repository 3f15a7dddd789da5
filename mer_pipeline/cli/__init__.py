"""The `mer-pipeline` console script: one module per command (so a DVC stage script's import closure holds only its
own command), assembled in app.py. Command modules import the library inside the command, so `--help` answers
without loading torch, mediapipe or zarr."""
