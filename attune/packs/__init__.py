"""Reading pack directories (pack.yaml, actions/*.yaml) into domain definitions."""
