#!/bin/sh
# core.ask is carried out by the executor (an inquiry), never by a worker.
echo "core.ask runs in the executor: answer its inquiry with attune inquiry respond" >&2
exit 1
