"""The worker: runs actions from the work queues and reports their outcome."""
