"""Reading the battery out of a model: pooled states, probes, steering directions.

``config`` (what a run depends on), ``model`` (identity and loading), ``extract`` and ``backends`` (pooled states
through transformers, TransformerLens or nnsight), ``cache`` (the activation cache), ``activations`` (states of the
whole battery, the ``extract`` file), ``fit`` (logistic and mass-mean probes), ``directions`` (steering vectors),
``steering`` (forward hooks to add a direction or patch states), ``run`` (the ``probe`` pipeline and submission).
"""
