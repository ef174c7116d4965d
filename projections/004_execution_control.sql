-- Re-runs point at the execution they repeat.
ALTER TABLE executions ADD COLUMN rerun_of bigint;
