"""Bindings: what each BPMN element does against the system under test, and running it.

The public entry points, in the order a suite goes through them:

* `loader.load_bindings(path_or_text, graph)` / `loader.bindings_for(graph, file)`: a binding
  file (format in `model`) and bindings embedded in the BPMN (`extension`), validated, errors
  naming the YAML path and line;
* `attach.attach_bindings(suite, bindings)`: step specs onto a generated suite, shared barriers
  placed into its scenarios (`barriers`), plus the ids of the elements left unbound;
* `environment.load_environment(path)`, `environment.resolve_secrets(spec, environ)`,
  `datasets.load_dataset(path)`: what `orchestra env apply` and `dataset import` store (an
  environment's `tls` certificates read beside its file as PEM text: `tls`, `tls_files`);
* `executor.StepExecutor(environment, variables)`: one step in, one redacted StepOutcome out;
  `factory.executor_factory()` builds one per stored environment for the runtime's workers
  (each distinct TLS configuration's SSLContext built once, then, with its client key file).
"""
