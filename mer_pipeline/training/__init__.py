"""Training and prediction: experiments from modality stores, LOSO and 90/10 protocols, the paper's recipe."""
