"""DAGs: everything the control plane does with the files of an environment's DAGs folder."""
