#!/bin/sh
. "$(dirname "$0")/lib.sh"
read_params
if [ "$param_uppercase" = "true" ]; then
    printf '%s\n' "$param_message" | tr '[:lower:]' '[:upper:]'
else
    printf '%s\n' "$param_message"
fi
