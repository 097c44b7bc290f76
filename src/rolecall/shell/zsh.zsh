
# --- zsh ---
# $EPOCHSECONDS comes from the zsh/datetime module (loaded in-process, no command is run).
zmodload zsh/datetime 2>/dev/null
_rolecall_now() {
    emulate -L zsh
    __rc_now=${EPOCHSECONDS-}
}

# Tab completion of profile names, from `rolecall configure list-profiles` (one name per line).
# Registered when the completion system is loaded: put the shell-init line after `compinit`.
_rolecall_assume() {
    emulate -L zsh
    local -a __rc_profiles
    __rc_profiles=(${(f)"$(command rolecall configure list-profiles 2>/dev/null)"})
    compadd -a __rc_profiles
}
if (( ${+functions[compdef]} )); then
    compdef _rolecall_assume assume
fi
