"""Rule matching: the array form of conditions (and, with `attune.expr`, the expression form)."""
