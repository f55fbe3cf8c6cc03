"""Log shipping: the Alloy configuration syntax and the pipelines written in it."""
