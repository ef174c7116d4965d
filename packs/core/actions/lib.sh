# Shared by the core shell actions: read dotenv parameters ("key="value"" lines,
# backslash escapes as printf '%b' understands them) from stdin into variables
# named param_<key>. No eval: a value can never run as code.
read_params() {
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in
            *=*) ;;
            *) continue ;;
        esac
        key=${line%%=*}
        value=${line#*=}
        value=${value#\"}
        value=${value%\"}
        case "$key" in
            *[!A-Za-z0-9_]*|"") continue ;;
        esac
        value=$(printf '%bx' "$value")
        value=${value%x}
        export "param_$key=$value"
    done
}
