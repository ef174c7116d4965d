#!/bin/sh
. "$(dirname "$0")/lib.sh"
read_params
sleep "${param_seconds:-1}"
if [ -n "$param_message" ]; then
    printf '%s\n' "$param_message"
fi
