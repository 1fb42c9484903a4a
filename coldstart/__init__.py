"""The cold-start model as a library: scorers, the interview, estimators, evaluation,
ml-100k parsing and the artifact's format. No Django here (an import contract checks it):
the web app imports this package, never the other way round."""
