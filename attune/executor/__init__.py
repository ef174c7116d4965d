"""The executor: schedules requested executions onto work queues."""
