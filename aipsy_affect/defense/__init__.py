"""The defense battery's instruments: VADER sentiment, the NRC emotion lexicon and the contextual classifier."""
