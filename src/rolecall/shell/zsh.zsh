
# --- zsh ---
# $EPOCHSECONDS comes from the zsh/datetime module (loaded in-process, no command is run).
zmodload zsh/datetime 2>/dev/null
_rolecall_now() {
    emulate -L zsh
    __rc_now=${EPOCHSECONDS-}
}

# The profile name for the prompt segment, into __rc_name: control characters as '?', and every % doubled, since
# zsh expands % sequences (%F{red}, %n, %D{...}) in prompts, PROMPT_SUBST or not (see rolecall_prompt_update).
_rolecall_prompt_name() {
    emulate -L zsh
    __rc_name=${ROLECALL_PROFILE//[[:cntrl:]]/?}
    __rc_name=${__rc_name//\%/%%}
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
