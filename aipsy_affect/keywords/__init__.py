"""The emotion-keyword screen: the versioned lexicon, text normalisation and the matcher."""
